// The officer's side of the WebRTC call: camera, one peer connection, a complete offer (no trickle
// ICE: the hub relays exactly one offer and one answer), the sergeant's media, and stats.

/** A camera/microphone problem the officer can act on; `message` is safe to show. */
export class CameraError extends Error {
  constructor(kind, message) {
    super(message);
    this.name = 'CameraError';
    this.kind = kind;
  }
}

/** The call could not be set up or broke; `message` is safe to show. */
export class CallError extends Error {
  constructor(message) {
    super(message);
    this.name = 'CallError';
  }
}

// 720p30 is the protocol's cap (aiortc's VP8 encoder cannot hold more); "ideal" lets a phone
// with a lesser camera still start.
const VIDEO_CONSTRAINTS = {
  width: { ideal: 1280 },
  height: { ideal: 720 },
  frameRate: { ideal: 30, max: 30 },
  facingMode: 'user',
};

function cameraErrorFrom(error) {
  switch (error?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return new CameraError('denied',
        'Camera permission was refused. Allow camera and microphone for this site in your '
        + 'browser settings, then tap Verify me again.');
    case 'NotFoundError':
    case 'OverconstrainedError':
      return new CameraError('missing', 'No camera was found on this device.');
    case 'NotReadableError':
    case 'AbortError':
      return new CameraError('busy',
        'The camera is busy or not working. Close other apps that use it and try again.');
    default:
      return new CameraError('failed', `The camera could not be started (${error?.name || error}).`);
  }
}

/** Open the camera (and microphone when there is one). Throws CameraError. */
export async function openCamera() {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new CameraError('insecure',
      'This browser cannot use the camera here. Open the page over HTTPS in Chrome or Safari.');
  }
  try {
    return await navigator.mediaDevices.getUserMedia({ video: VIDEO_CONSTRAINTS, audio: true });
  } catch (error) {
    // A phone without a usable microphone can still be verified on video.
    if (error?.name !== 'NotFoundError' && error?.name !== 'NotReadableError') {
      throw cameraErrorFrom(error);
    }
  }
  try {
    return await navigator.mediaDevices.getUserMedia({ video: VIDEO_CONSTRAINTS, audio: false });
  } catch (error) {
    throw cameraErrorFrom(error);
  }
}

/** Put VP8 first: Chromium builds without H.264 exist, and aiortc encodes VP8 best. */
function preferVp8(transceiver) {
  const capabilities = RTCRtpSender.getCapabilities?.('video');
  if (!capabilities || typeof transceiver.setCodecPreferences !== 'function') return;
  const isVp8 = (codec) => codec.mimeType.toLowerCase() === 'video/vp8';
  const ordered = [
    ...capabilities.codecs.filter(isVp8),
    ...capabilities.codecs.filter((codec) => !isVp8(codec)),
  ];
  try {
    transceiver.setCodecPreferences(ordered);
  } catch {
    // Never fatal: the default order still negotiates.
  }
}

/** 1.5 Mbit/s is as much as the other end (aiortc's VP8) would itself send at 720p. */
function capBitrate(sender) {
  const parameters = sender.getParameters();
  for (const encoding of parameters.encodings || []) encoding.maxBitrate = 1_500_000;
  sender.setParameters(parameters).catch(() => {
    // Not fatal: the default cap is close.
  });
}

/**
 * Give Chromium's bandwidth estimator a sensible floor and starting point for VP8. It otherwise
 * starts at ~300 kbit/s and, fed only REMB by aiortc (no transport-cc), ramps slowly and drops
 * the picture to 320x180 whenever the far end's CPU is busy; the sergeant needs a face he can
 * compare with a photo and a warrant card he can read. Only the remote description is edited.
 */
export function withBitrateHints(sdp, { startKbps = 1000, minKbps = 500, maxKbps = 1500 } = {}) {
  const hints = `x-google-start-bitrate=${startKbps};x-google-min-bitrate=${minKbps}`
    + `;x-google-max-bitrate=${maxKbps}`;
  const lines = sdp.split(/\r?\n/);
  const vp8Of = (line) => /^a=rtpmap:(\d+) VP8\/90000/i.exec(line)?.[1];
  const fmtpOf = (line) => /^a=fmtp:(\d+) /.exec(line)?.[1];
  const vp8 = new Set(lines.map(vp8Of).filter(Boolean));
  const hasFmtp = new Set(lines.map(fmtpOf).filter((pt) => vp8.has(pt)));
  const out = [];
  for (const line of lines) {
    const pt = fmtpOf(line);
    if (pt && vp8.has(pt) && !line.includes('x-google-')) {
      out.push(`${line};${hints}`);
      continue;
    }
    out.push(line);
    const rtpmapPt = vp8Of(line);
    if (rtpmapPt && !hasFmtp.has(rtpmapPt)) out.push(`a=fmtp:${rtpmapPt} ${hints}`);
  }
  return out.join('\r\n');
}

function waitForGathering(pc, timeoutMs) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => { cleanup(); resolve(false); }, timeoutMs);
    const onChange = () => {
      if (pc.iceGatheringState === 'complete') { cleanup(); resolve(true); }
    };
    const cleanup = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', onChange);
    };
    pc.addEventListener('icegatheringstatechange', onChange);
  });
}

function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new CallError(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class FieldCall {
  /**
   * @param {MediaStream} localStream the camera (owned by the caller; stopped in close())
   * @param {RTCIceServer[]} iceServers from the hub's /config
   * @param {{onRemoteStream?: (s: MediaStream) => void,
   *          onConnectionState?: (state: string) => void}} handlers
   */
  constructor(localStream, iceServers, { onRemoteStream = () => {}, onConnectionState = () => {} }) {
    this.localStream = localStream;
    this.remoteStream = new MediaStream();
    this.answerApplied = false;
    this.closed = false;
    this.pc = new RTCPeerConnection({ iceServers, bundlePolicy: 'max-bundle' });
    for (const track of localStream.getTracks()) {
      const transceiver = this.pc.addTransceiver(track, {
        direction: 'sendrecv', streams: [localStream],
      });
      if (track.kind === 'video') {
        preferVp8(transceiver);
        capBitrate(transceiver.sender);
      }
    }
    if (localStream.getAudioTracks().length === 0) {
      // No microphone: still receive the sergeant's voice.
      this.pc.addTransceiver('audio', { direction: 'recvonly' });
    }
    this.pc.addEventListener('track', (event) => {
      this.remoteStream.addTrack(event.track);
      onRemoteStream(this.remoteStream);
    });
    this.pc.addEventListener('connectionstatechange', () => {
      onConnectionState(this.pc.connectionState);
    });
  }

  /** Create the offer and wait until every ICE candidate is in it. Resolves to the SDP text. */
  async createOffer({ gatherTimeoutMs = 5000 } = {}) {
    const offer = await withTimeout(this.pc.createOffer(), 5000, 'Could not prepare the call.');
    await withTimeout(this.pc.setLocalDescription(offer), 5000, 'Could not prepare the call.');
    await waitForGathering(this.pc, gatherTimeoutMs);
    const sdp = this.pc.localDescription?.sdp || '';
    // A gathering timeout is survivable if some candidates made it into the offer.
    if (!/^a=candidate:/m.test(sdp)) {
      throw new CallError('No network route for video was found. Check your connection.');
    }
    return sdp;
  }

  /** Apply the sergeant's answer exactly once (the event stream may repeat it on reconnect). */
  async applyAnswer(sdp) {
    if (this.answerApplied || this.closed) return;
    this.answerApplied = true;
    await withTimeout(this.pc.setRemoteDescription({ type: 'answer', sdp: withBitrateHints(sdp) }),
      5000,
      'The control room\'s answer could not be used.');
  }

  /** A compact view of getStats(): what tests, the benchmark and a quality line need. */
  async stats() {
    const result = {
      connectionState: this.pc.connectionState,
      inbound: null, outbound: null, inboundAudio: null, codec: null, rttMs: null,
    };
    if (this.closed) return result;
    const report = await this.pc.getStats();
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        result.inbound = {
          framesDecoded: s.framesDecoded ?? 0, framesReceived: s.framesReceived ?? 0,
          frameWidth: s.frameWidth ?? 0, frameHeight: s.frameHeight ?? 0,
          framesPerSecond: s.framesPerSecond ?? 0, packetsLost: s.packetsLost ?? 0,
          bytesReceived: s.bytesReceived ?? 0,
        };
        if (s.codecId && report.get(s.codecId)) result.codec = report.get(s.codecId).mimeType;
      } else if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        result.inboundAudio = { packetsReceived: s.packetsReceived ?? 0 };
      } else if (s.type === 'outbound-rtp' && s.kind === 'video') {
        result.outbound = {
          framesEncoded: s.framesEncoded ?? 0, framesSent: s.framesSent ?? 0,
          frameWidth: s.frameWidth ?? 0, frameHeight: s.frameHeight ?? 0,
          framesPerSecond: s.framesPerSecond ?? 0,
          qualityLimitationReason: s.qualityLimitationReason ?? null,
          encoder: s.encoderImplementation ?? null,
        };
      } else if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') {
        if (typeof s.currentRoundTripTime === 'number') result.rttMs = s.currentRoundTripTime * 1000;
      }
    });
    return result;
  }

  /** Stop the camera and close the connection. Safe to call twice. */
  close() {
    if (this.closed) return;
    this.closed = true;
    for (const track of this.localStream.getTracks()) track.stop();
    this.pc.close();
  }
}
