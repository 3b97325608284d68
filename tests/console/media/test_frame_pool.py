"""OutgoingFramePool / fresh_copy: frames are recycled only once nobody else holds them."""

from __future__ import annotations

import threading

import av
import numpy as np

from console.adapters.media.frames import OutgoingFramePool, fresh_copy


def flat_frame(luma: int, width: int = 64, height: int = 32) -> av.VideoFrame:
    planes = np.full((height * 3 // 2, width), 128, dtype=np.uint8)
    planes[:height] = luma
    return av.VideoFrame.from_ndarray(planes, format="yuv420p")


def luma_of(frame: av.VideoFrame) -> int:
    return int(np.frombuffer(frame.planes[0], dtype=np.uint8)[0])


def test_a_dropped_copy_is_reused_with_the_new_picture() -> None:
    pool = OutgoingFramePool()
    first = fresh_copy(flat_frame(40), pool)
    first_id = id(first)
    del first  # the "encoder" is done with it

    second = fresh_copy(flat_frame(90), pool)

    assert id(second) == first_id
    assert luma_of(second) == 90
    assert second.to_ndarray().tolist() == flat_frame(90).to_ndarray().tolist()


def test_a_held_copy_is_never_overwritten() -> None:
    pool = OutgoingFramePool()
    held = [fresh_copy(flat_frame(10 + index), pool) for index in range(6)]  # more than capacity

    newer = fresh_copy(flat_frame(200), pool)

    assert all(newer is not frame for frame in held)
    assert [luma_of(frame) for frame in held] == [10, 11, 12, 13, 14, 15]


def test_a_copy_held_by_another_thread_is_not_reused_until_released() -> None:
    pool = OutgoingFramePool()
    in_encoder = fresh_copy(flat_frame(50), pool)
    taken = threading.Event()
    release = threading.Event()
    holder: list[av.VideoFrame] = []

    def encode(frame: av.VideoFrame) -> None:
        holder.append(frame)
        del frame
        taken.set()
        release.wait(30)
        holder.clear()

    worker = threading.Thread(target=encode, args=(in_encoder,))
    worker.start()
    assert taken.wait(30)
    first_id = id(in_encoder)
    del in_encoder  # only the "encoder thread" holds it now
    try:
        while_held = fresh_copy(flat_frame(60), pool)
        assert id(while_held) != first_id
        assert luma_of(holder[0]) == 50
    finally:
        release.set()
        worker.join(30)
    while_held_id = id(while_held)
    del while_held

    # Both are free now: the next copy recycles one of them instead of allocating.
    assert id(fresh_copy(flat_frame(70), pool)) in {first_id, while_held_id}


def test_a_keyframe_request_is_not_carried_over_to_the_next_user() -> None:
    pool = OutgoingFramePool()
    frame = fresh_copy(flat_frame(30), pool)
    frame.pict_type = av.video.frame.PictureType.I  # what aiortc does on a keyframe request
    frame.pts = 1234
    frame_id = id(frame)
    del frame

    again = fresh_copy(flat_frame(31), pool)

    assert id(again) == frame_id
    assert again.pict_type == av.video.frame.PictureType.NONE
    assert again.pts is None


def test_a_new_size_gets_a_frame_of_that_size() -> None:
    pool = OutgoingFramePool()
    small = fresh_copy(flat_frame(30, 64, 32), pool)
    del small
    large = fresh_copy(flat_frame(80, 128, 64), pool)
    assert (large.width, large.height) == (128, 64)
    assert luma_of(large) == 80


def test_frames_of_another_pixel_format_are_not_handed_out() -> None:
    pool = OutgoingFramePool()
    nv12 = pool.take(64, 32, "nv12")
    nv12_id = id(nv12)
    del nv12

    yuv = pool.take(64, 32)
    assert yuv.format.name == "yuv420p"
    assert id(pool.take(64, 32, "nv12")) == nv12_id
