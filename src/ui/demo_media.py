"""The demo candidate's photos and environment recordings, drawn at seed time: real JPEG
pictures and short VP8 WebM videos an examiner's browser shows and plays (the tests' samples
are headers only and display nothing). Drawn with numpy and encoded with PyAV, both already
here for the live recorder: no imaging library, no font file, no file shipped.

The pictures are flat drawings (a portrait, an identity card bearing the registered name, a
room, a desk), deterministic, and small (about 200 KB in all): the three recordings take a
few tenths of a second to encode, once, at the first start."""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

import av
import numpy as np
from numpy.typing import NDArray

from domain.proctored_session import EnvironmentPart

Image = NDArray[np.uint8]  # height × width × RGB
Color = tuple[int, int, int]

PHOTO_SIZE = (640, 480)  # width, height: what a webcam's canvas gives
VIDEO_SIZE = (320, 240)
FPS = 10
# R10 asks at least 5, 10 and 5 s (MIN_RECORDING_S): a little more, as a candidate films.
SECONDS: dict[EnvironmentPart, int] = {
    EnvironmentPart.EARS: 6,
    EnvironmentPart.ROOM: 11,
    EnvironmentPart.DESK: 6,
}

SKIN: Color = (226, 184, 150)
HAIR: Color = (74, 48, 34)
SWEATER: Color = (46, 92, 140)
WALL: Color = (232, 226, 214)


@dataclass(frozen=True)
class IdentityCard:
    """What the demo's identity document says (the registered name, as the examiner compares)."""

    surname: str
    first_name: str
    born: str  # as printed: "08.03.1996"
    place: str


# A 5 × 7 pixel font (each row five bits, the left one first) for the identity card's words:
# capitals, digits and the few signs a French card prints.
_GLYPHS: dict[str, tuple[int, ...]] = {
    "A": (14, 17, 17, 31, 17, 17, 17),
    "B": (30, 17, 17, 30, 17, 17, 30),
    "C": (14, 17, 16, 16, 16, 17, 14),
    "D": (28, 18, 17, 17, 17, 18, 28),
    "E": (31, 16, 16, 30, 16, 16, 31),
    "F": (31, 16, 16, 30, 16, 16, 16),
    "G": (14, 17, 16, 23, 17, 17, 15),
    "H": (17, 17, 17, 31, 17, 17, 17),
    "I": (14, 4, 4, 4, 4, 4, 14),
    "J": (7, 2, 2, 2, 2, 18, 12),
    "K": (17, 18, 20, 24, 20, 18, 17),
    "L": (16, 16, 16, 16, 16, 16, 31),
    "M": (17, 27, 21, 21, 17, 17, 17),
    "N": (17, 17, 25, 21, 19, 17, 17),
    "O": (14, 17, 17, 17, 17, 17, 14),
    "P": (30, 17, 17, 30, 16, 16, 16),
    "Q": (14, 17, 17, 17, 21, 18, 13),
    "R": (30, 17, 17, 30, 20, 18, 17),
    "S": (15, 16, 16, 14, 1, 1, 30),
    "T": (31, 4, 4, 4, 4, 4, 4),
    "U": (17, 17, 17, 17, 17, 17, 14),
    "V": (17, 17, 17, 17, 17, 10, 4),
    "W": (17, 17, 17, 21, 21, 21, 10),
    "X": (17, 17, 10, 4, 10, 17, 17),
    "Y": (17, 17, 17, 10, 4, 4, 4),
    "Z": (31, 1, 2, 4, 8, 16, 31),
    "É": (2, 4, 31, 16, 30, 16, 31),
    "0": (14, 17, 19, 21, 25, 17, 14),
    "1": (4, 12, 4, 4, 4, 4, 14),
    "2": (14, 17, 1, 2, 4, 8, 31),
    "3": (31, 2, 4, 2, 1, 17, 14),
    "4": (2, 6, 10, 18, 31, 2, 2),
    "5": (31, 16, 30, 1, 1, 17, 14),
    "6": (6, 8, 16, 30, 17, 17, 14),
    "7": (31, 1, 2, 4, 8, 8, 8),
    "8": (14, 17, 17, 14, 17, 17, 14),
    "9": (14, 17, 17, 15, 1, 2, 12),
    ".": (0, 0, 0, 0, 0, 12, 12),
    ":": (0, 12, 12, 0, 12, 12, 0),
    "'": (12, 4, 8, 0, 0, 0, 0),
    "-": (0, 0, 0, 31, 0, 0, 0),
    "<": (2, 4, 8, 16, 8, 4, 2),
    "(": (2, 4, 8, 8, 8, 4, 2),
    ")": (8, 4, 2, 2, 2, 4, 8),
    " ": (0, 0, 0, 0, 0, 0, 0),
}


# --- drawing -------------------------------------------------------------------------------


def _canvas(width: int, height: int, top: Color, bottom: Color) -> Image:
    """A vertical gradient: a wall lit from above reads as a wall, a flat colour as a card."""
    mix = np.linspace(0.0, 1.0, height)[:, None, None]
    column = (1 - mix) * np.array(top) + mix * np.array(bottom)
    return np.repeat(column, width, axis=1).astype(np.uint8)


def _ellipse(image: Image, cx: float, cy: float, rx: float, ry: float, color: Color) -> None:
    height, width = image.shape[:2]
    x0, x1 = max(0, int(cx - rx)), min(width, int(cx + rx) + 1)
    y0, y1 = max(0, int(cy - ry)), min(height, int(cy + ry) + 1)
    if x0 >= x1 or y0 >= y1:
        return
    ys, xs = np.ogrid[y0:y1, x0:x1]
    inside = ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2 <= 1.0
    image[y0:y1, x0:x1][inside] = color


def _box(image: Image, x: int, y: int, width: int, height: int, color: Color) -> None:
    image[max(0, y) : max(0, y + height), max(0, x) : max(0, x + width)] = color


def _text(image: Image, x: int, y: int, words: str, color: Color, scale: int = 2) -> None:
    """Words in the 5 × 7 font, `scale` pixels a dot (unknown signs as spaces)."""
    for n, sign in enumerate(words.upper()):
        rows = _GLYPHS.get(sign, _GLYPHS[" "])
        bits = np.array([[(row >> (4 - i)) & 1 for i in range(5)] for row in rows], dtype=bool)
        dots = np.kron(bits, np.ones((scale, scale), dtype=bool))
        left = x + n * 6 * scale
        patch = image[y : y + 7 * scale, left : left + 5 * scale]
        patch[dots[: patch.shape[0], : patch.shape[1]]] = color


def _portrait(image: Image, cx: float, cy: float, size: float) -> None:
    """A head and shoulders, centred on the face at (cx, cy), the face `size` pixels high:
    hair tied back, both ears showing (R10 films them)."""
    r = size / 2
    _box(image, int(cx - 0.35 * r), int(cy + 0.6 * r), int(0.7 * r), int(0.9 * r), (205, 160, 128))
    _ellipse(image, cx, cy + 2.3 * r, 2.2 * r, 1.3 * r, SWEATER)  # shoulders, under the neck
    _ellipse(image, cx, cy - 0.15 * r, 0.86 * r, 1.02 * r, HAIR)  # hair, behind the head
    for side in (-1, 1):  # ears
        _ellipse(image, cx + side * 0.74 * r, cy + 0.05 * r, 0.14 * r, 0.24 * r, (214, 168, 136))
    _ellipse(image, cx, cy + 0.08 * r, 0.72 * r, 0.92 * r, SKIN)
    _ellipse(image, cx, cy - 0.6 * r, 0.7 * r, 0.38 * r, HAIR)  # fringe
    for side in (-1, 1):
        ex = cx + side * 0.3 * r
        _ellipse(image, ex, cy - 0.18 * r, 0.17 * r, 0.05 * r, HAIR)  # eyebrow
        _ellipse(image, ex, cy - 0.02 * r, 0.15 * r, 0.08 * r, (250, 250, 250))
        _ellipse(image, ex, cy - 0.02 * r, 0.065 * r, 0.075 * r, (70, 90, 60))
        _ellipse(image, ex, cy - 0.02 * r, 0.03 * r, 0.035 * r, (20, 20, 20))
    _ellipse(image, cx, cy + 0.22 * r, 0.07 * r, 0.12 * r, (208, 160, 128))  # nose
    _ellipse(image, cx, cy + 0.5 * r, 0.24 * r, 0.07 * r, (176, 84, 84))  # mouth


def _card(card: IdentityCard, width: int = 520) -> Image:
    """The identity document's face: its header, the holder's photo, the name fields and the
    machine-readable line (the registered name, which the examiner compares)."""
    height = width * 54 // 86  # an ID-1 card's proportions
    image = _canvas(width, height, (214, 228, 238), (236, 214, 222))
    _box(image, 0, 0, width, height // 7, (40, 70, 140))
    _text(image, 12, 8, "REPUBLIQUE FRANCAISE", (255, 255, 255), 2)
    _text(image, 12, height // 7 + 8, "CARTE NATIONALE D'IDENTITE", (40, 70, 140), 2)
    photo = _canvas(150, 190, (200, 210, 222), (176, 188, 204))
    _portrait(photo, 75, 80, 100)
    top = height // 7 + 34
    image[top : top + 190, 16:166] = photo
    rows = [
        ("NOM", card.surname),
        ("PRENOM", card.first_name),
        ("NE(E) LE", card.born),
        ("A", card.place),
    ]
    for n, (label, value) in enumerate(rows):
        y = top + n * 44
        _text(image, 184, y, label, (90, 100, 120), 2)
        _text(image, 184, y + 18, value, (20, 20, 30), 3 if n < 2 else 2)
    machine = f"IDFRA{card.surname}<<<<<<<<<<<<<<"[:30]
    _text(image, 16, height - 26, machine, (30, 30, 30), 2)
    return image


def _with_rounded_corners(card: Image, background: Image, x: int, y: int) -> None:
    height, width = card.shape[:2]
    radius = 18
    ys, xs = np.ogrid[0:height, 0:width]
    dx = np.maximum(np.maximum(radius - xs, xs - (width - 1 - radius)), 0)
    dy = np.maximum(np.maximum(radius - ys, ys - (height - 1 - radius)), 0)
    inside = dx**2 + dy**2 <= radius**2
    background[y : y + height, x : x + width][inside] = card[inside]


def face_picture() -> Image:
    """The face photo's picture: the candidate in front of her webcam."""
    width, height = PHOTO_SIZE
    image = _canvas(width, height, WALL, (196, 186, 170))
    _portrait(image, width / 2, height * 0.42, height * 0.42)
    return image


def id_picture(card: IdentityCard) -> Image:
    """The ID photo's picture: the card held up in front of the webcam."""
    width, height = PHOTO_SIZE
    image = _canvas(width, height, WALL, (196, 186, 170))
    _ellipse(image, width / 2, height * 1.05, width * 0.45, height * 0.3, SWEATER)
    drawn = _card(card)
    _with_rounded_corners(drawn, image, (width - drawn.shape[1]) // 2, 70)
    return image


def room_panorama() -> Image:
    """The room, wall to wall, as the camera turns round it: a window, a shelf, a door, a
    plant — and nobody."""
    width, height = 1280, VIDEO_SIZE[1]
    image = _canvas(width, height, WALL, (214, 204, 188))
    _box(image, 0, height * 3 // 4, width, height // 4, (150, 112, 80))  # floor
    _box(image, 120, 40, 170, 110, (245, 245, 245))  # window frame, then its panes
    _box(image, 128, 48, 154, 94, (170, 208, 236))
    _box(image, 203, 48, 4, 94, (245, 245, 245))
    _box(image, 420, 50, 180, 130, (120, 84, 56))  # a shelf of books
    colors = [(176, 58, 46), (46, 110, 76), (220, 180, 60), (60, 80, 150), (120, 60, 120)]
    for n in range(24):  # its books, two rows of twelve
        left, shelf = 428 + (n % 12) * 14, 58 if n < 12 else 122
        _box(image, left, shelf, 11, 50 - (n % 3) * 6, colors[n % len(colors)])
    _box(image, 420, 114, 180, 6, (96, 66, 44))
    _box(image, 760, 30, 110, 150, (160, 118, 76))  # the door
    _ellipse(image, 852, 110, 5, 5, (220, 200, 120))
    _box(image, 1010, 150, 40, 40, (170, 96, 60))  # a plant in its pot
    _ellipse(image, 1030, 130, 36, 30, (70, 140, 70))
    return image


def desk_top(card: IdentityCard) -> Image:
    """The desk seen from above: the computer and the identity document, nothing else."""
    width, height = PHOTO_SIZE
    image = _canvas(width, height, (176, 132, 92), (160, 118, 80))
    _box(image, 150, 60, 300, 16, (40, 42, 48))  # the screen, folded up, seen edge on
    _box(image, 150, 76, 300, 200, (70, 72, 80))  # the keyboard half
    for row in range(5):  # its keys
        for key in range(12):
            _box(image, 166 + key * 23, 92 + row * 22, 19, 18, (40, 42, 48))
    _box(image, 250, 210, 100, 54, (92, 96, 106))  # the touchpad
    lying = _card(card)[::3, ::3]  # the card, lying beside it
    image[300 : 300 + lying.shape[0], 380 : 380 + lying.shape[1]] = lying
    return image


# --- encoding ------------------------------------------------------------------------------


def jpeg(image: Image) -> bytes:
    """A baseline JPEG of the picture (PyAV's MJPEG encoder: a JPEG per frame)."""
    height, width = image.shape[:2]
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height = width, height
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = av.time_base  # type: ignore[assignment]
    encoder.options = {"qmin": "2", "qmax": "4"}  # a photo, not a thumbnail
    frame = frame.reformat(format="yuvj420p")
    return b"".join(bytes(p) for p in [*encoder.encode(frame), *encoder.encode(None)])


def webm(frames: Iterator[Image], fps: int = FPS) -> bytes:
    """A VP8 WebM of the frames, as Chromium's MediaRecorder writes (its Duration and cues
    written, the output being seekable: the examiner's player shows the length at once)."""
    output = io.BytesIO()
    with av.open(output, mode="w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=fps)
        stream.width, stream.height = VIDEO_SIZE
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = 400_000
        # Realtime and one thread: 2 cores busy with other work made threads slower.
        stream.codec_context.options = {"deadline": "realtime", "cpu-used": "8", "threads": "1"}
        for image in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return output.getvalue()


def timed_webm(frames: Iterable[tuple[float, Image]]) -> bytes:
    """A VP8 WebM of pictures each shown from its second on (a variable frame rate, as a
    browser's recorder writes when little moves), its Duration and cues written."""
    output = io.BytesIO()
    millisecond = Fraction(1, 1000)
    with av.open(output, mode="w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=MOVING_FPS)
        stream.width, stream.height = VIDEO_SIZE
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = 200_000
        stream.time_base = millisecond
        stream.codec_context.time_base = millisecond
        stream.codec_context.options = {"deadline": "realtime", "cpu-used": "8", "threads": "1"}
        for second, image in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            frame.pts = round(second * 1000)
            frame.time_base = millisecond
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return output.getvalue()


def _pan(image: Image, path: list[tuple[float, float]], count: int) -> Iterator[Image]:
    """`count` windows of the video's size over the image, their top-left corners moving
    along `path` (fractions of the room left to move in, each leg as long)."""
    width, height = VIDEO_SIZE
    room_x, room_y = image.shape[1] - width, image.shape[0] - height
    legs = len(path) - 1
    for n in range(count):
        where = n / max(1, count - 1) * legs
        leg = min(int(where), legs - 1)
        t = where - leg
        (ax, ay), (bx, by) = path[leg], path[leg + 1]
        x = round(((1 - t) * ax + t * bx) * room_x)
        y = round(((1 - t) * ay + t * by) * room_y)
        yield image[y : y + height, x : x + width]


def environment_recording(part: EnvironmentPart, card: IdentityCard) -> bytes:
    """R10's recording of one part: the camera turned round her ears, round the room, then
    over the desk (her computer and her identity card)."""
    return webm(_filming(part, card, SECONDS[part] * FPS))


def _filming(part: EnvironmentPart, card: IdentityCard, count: int) -> Iterator[Image]:
    """`count` pictures of the camera filming that part (R10), from its start to its end."""
    if part is EnvironmentPart.EARS:
        # Close up, from one ear to the other and back.
        width, height = PHOTO_SIZE
        head = _canvas(width, height, WALL, (196, 186, 170))
        _portrait(head, width / 2, height * 0.45, height * 0.85)
        frames = _pan(head, [(0.05, 0.4), (0.95, 0.4), (0.05, 0.4)], count)
    elif part is EnvironmentPart.ROOM:
        frames = _pan(room_panorama(), [(0.0, 0.0), (1.0, 0.0)], count)
    else:
        frames = _pan(desk_top(card), [(0.3, 0.0), (0.5, 0.4), (0.75, 1.0)], count)
    return frames


# --- the surveillance recording ------------------------------------------------------------

# A picture every few seconds while nothing moves, twice a second while something does (her
# filming, a phone in view): a webcam's view of a person at her desk changes little, and the
# hour's recording is drawn and encoded in under a second, once, at the first start.
STILL_EVERY_S = 4.0
MOVING_FPS = 2


@dataclass(frozen=True)
class Surveillance:
    """What the proctoring tab's camera saw, in seconds from her entry: the session's length,
    when she began filming each part of R10, and when a phone was in view."""

    seconds: float
    filming: dict[EnvironmentPart, float]
    phone: tuple[float, float]


@cache
def at_her_desk(sway: int, phone: bool) -> Image:
    """The webcam's picture of her at her desk (her head moved `sway` pixels), holding a
    phone to her ear when `phone` (a few pictures, each drawn once)."""
    width, height = VIDEO_SIZE
    image = _canvas(width, height, WALL, (196, 186, 170))
    _box(image, 0, height - 28, width, 28, (150, 112, 80))  # the desk's edge
    _portrait(image, width / 2 + sway, height * 0.42, height * 0.42)
    if phone:
        x, y = int(width / 2 + sway + 38), int(height * 0.36)
        _ellipse(image, x + 8, y + 70, 16, 22, SKIN)  # her hand, holding it up
        _box(image, x, y, 22, 44, (28, 28, 32))  # the phone
        _box(image, x + 3, y + 4, 16, 34, (70, 110, 160))  # its lit screen
    image.flags.writeable = False  # kept (cached) and shared by every frame that shows it
    return image


def surveillance_frames(seen: Surveillance, card: IdentityCard) -> Iterator[tuple[float, Image]]:
    """(second, picture) from her entry to the end: at her desk, filming each part in turn,
    a phone in view for a while."""
    moving: list[tuple[float, float, Iterator[Image]]] = [
        (start, start + SECONDS[part], _filming(part, card, SECONDS[part] * MOVING_FPS))
        for part, start in seen.filming.items()
    ]
    phone_start, phone_end = seen.phone
    moving.append((phone_start, phone_end, _holding_phone(phone_end - phone_start)))
    moving.sort(key=lambda window: window[0])
    t = 0.0
    for start, end, pictures in moving:
        while t < start:
            yield t, at_her_desk(_sway(t), phone=False)
            t = min(t + STILL_EVERY_S, start)
        for n, picture in enumerate(pictures):
            yield start + n / MOVING_FPS, picture
        t = end
    while t < seen.seconds:
        yield t, at_her_desk(_sway(t), phone=False)
        t += STILL_EVERY_S
    yield seen.seconds, at_her_desk(_sway(seen.seconds), phone=False)


def _holding_phone(seconds: float) -> Iterator[Image]:
    for n in range(int(seconds * MOVING_FPS)):
        yield at_her_desk(_sway(n / MOVING_FPS), phone=True)


def _sway(t: float) -> int:
    return round(3.0 * math.sin(t / 9.0))


def surveillance(seen: Surveillance, card: IdentityCard) -> bytes:
    """The proctoring tab's camera, from her entry to the end, as one WebM segment."""
    return timed_webm(surveillance_frames(seen, card))
