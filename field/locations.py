"""Plausible London stop locations for simulated calls: a spot near a real street, and its name."""

from __future__ import annotations

import random

from protocol.schemas import Location

# (latitude, longitude, description) — public places where a plain-clothes stop could happen.
LONDON_SPOTS: tuple[tuple[float, float, str], ...] = (
    (51.4613, -0.1156, "Brixton Road, near Brixton tube station"),
    (51.4652, -0.1148, "Coldharbour Lane, Brixton"),
    (51.4551, -0.1280, "Clapham Common South Side, by the bandstand path"),
    (51.5413, -0.1027, "Upper Street, Islington, by the Green"),
    (51.5461, -0.0750, "Kingsland Road, Dalston Junction"),
    (51.5154, -0.0722, "Commercial Street, Spitalfields"),
    (51.5033, -0.1195, "Belvedere Road, South Bank"),
    (51.5136, -0.1365, "Wardour Street, Soho"),
    (51.4826, -0.0077, "Greenwich High Road, by the DLR"),
    (51.5574, -0.1779, "Hampstead High Street"),
    (51.5074, -0.2211, "Shepherd's Bush Green, north side"),
    (51.4749, -0.2057, "Fulham Palace Road, by the bus stop"),
    (51.5322, -0.0553, "Mile End Road, near the station"),
    (51.5907, -0.0683, "High Road, Tottenham, by the bus garage"),
    (51.4184, -0.0715, "Sydenham Road, by the railway bridge"),
)


def random_london_location(rng: random.Random | None = None) -> Location:
    """A spot from the list, jittered by a few metres, with a GPS-like accuracy."""
    rng = rng or random.Random()
    lat, lon, description = rng.choice(LONDON_SPOTS)
    return Location(
        latitude=round(lat + rng.uniform(-0.0004, 0.0004), 6),
        longitude=round(lon + rng.uniform(-0.0006, 0.0006), 6),
        accuracy_m=round(rng.uniform(4.0, 25.0), 1),
        description=description,
    )
