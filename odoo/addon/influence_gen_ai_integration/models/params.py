"""The app's generation rules (app/params.go), so a request made in Odoo is
checked exactly as one made in the app's composer before a host takes it.

Plain Python, no ORM: the request model calls validate() and turns the
first problem into a UserError naming the field.
"""
import math
import os
import time

MAX_PROMPT_CHARS = 4000
MIN_SIDE, MAX_SIDE, SIDE_MULTIPLE = 64, 4096, 8
MAX_SEED = 4294967295
MAX_IMAGES = 16
ASPECT_TOLERANCE = 0.04  # SDXL's 1152x896 for 4:3 is 3.6% off
COMMON_ASPECTS = [(1, 1), (4, 3), (3, 4), (3, 2), (2, 3), (16, 9), (9, 16), (21, 9), (9, 21), (5, 4), (4, 5),
                  (2, 1), (1, 2)]
DEFAULT_RESOLUTION = "1024x1024"


class ParamError(ValueError):
    """One invalid field: field is the form field, message says what to do."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field
        self.message = message


def _atoi(s):
    s = s.strip()
    if not s or not (s.isdigit() or (s[0] in "+-" and s[1:].isdigit())):
        raise ValueError(s)
    return int(s)


def parse_resolution(s):
    ws, sep, hs = (s or "").strip().lower().partition("x")
    try:
        if not sep:
            raise ValueError(s)
        w, h = _atoi(ws), _atoi(hs)
    except ValueError:
        raise ParamError("resolution", f"resolution {s!r}: write it as WIDTHxHEIGHT, e.g. 1024x1024") from None
    for side in (w, h):
        if side < MIN_SIDE or side > MAX_SIDE:
            raise ParamError("resolution", f"resolution {s!r}: each side must be between {MIN_SIDE} and {MAX_SIDE} pixels")
        if side % SIDE_MULTIPLE:
            raise ParamError("resolution", f"resolution {s!r}: each side must be a multiple of {SIDE_MULTIPLE} "
                                           f"(try {_round_to(w)}x{_round_to(h)})")
    return w, h


def parse_aspect(s):
    ws, sep, hs = (s or "").strip().partition(":")
    try:
        if not sep:
            raise ValueError(s)
        w, h = _atoi(ws), _atoi(hs)
        if not (0 < w <= 100 and 0 < h <= 100):
            raise ValueError(s)
    except ValueError:
        raise ParamError("aspect_ratio",
                         f"aspect ratio {s!r}: write it as W:H with whole numbers from 1 to 100, e.g. 16:9") from None
    return w, h


def _round_to(n, m=SIDE_MULTIPLE):
    # Go's (n + m/2) / m * m on positive ints.
    r = (n + m // 2) // m * m
    return r or m


def _aspect_diff(w, h, aw, ah):
    want = aw / ah
    return abs(w / h - want) / want


def aspect_of(w, h):
    best, best_diff = None, ASPECT_TOLERANCE
    for a in COMMON_ASPECTS:
        d = _aspect_diff(w, h, *a)
        if d <= best_diff:
            best, best_diff = a, d
    if best:
        return f"{best[0]}:{best[1]}"
    g = math.gcd(w, h)
    return f"{w // g}:{h // g}"


def size_for_aspect(aw, ah, area):
    hf = math.sqrt(area * ah / aw)
    wf = hf * aw / ah

    def clamp(n):
        return min(max(n, MIN_SIDE), MAX_SIDE)
    # Go's math.Round rounds half away from zero; these are positive.
    return clamp(_round_to(int(math.floor(wf + 0.5)))), clamp(_round_to(int(math.floor(hf + 0.5))))


def resolve_size(resolution, aspect, default_resolution):
    """(width, height, aspect) by the app's rules: both given must agree, one
    given derives the other, neither takes the default resolution."""
    resolution, aspect = (resolution or "").strip(), (aspect or "").strip()
    aw = ah = None
    if aspect:
        aw, ah = parse_aspect(aspect)
    if resolution:
        w, h = parse_resolution(resolution)
        if not aspect:
            return w, h, aspect_of(w, h)
        if _aspect_diff(w, h, aw, ah) > ASPECT_TOLERANCE:
            raise ParamError("aspect_ratio", f"aspect ratio {aspect} does not match resolution {w}x{h} "
                                             f"(that is {aspect_of(w, h)}); change one, or leave the aspect ratio "
                                             "empty to derive it")
        return w, h, f"{aw}:{ah}"
    if aspect:
        try:
            dw, dh = parse_resolution(default_resolution)
        except ParamError:
            dw, dh = 1024, 1024
        w, h = size_for_aspect(aw, ah, dw * dh)
        return w, h, f"{aw}:{ah}"
    w, h = parse_resolution(default_resolution or DEFAULT_RESOLUTION)
    return w, h, aspect_of(w, h)


def parse_seed(seed):
    """None for random ("", "-1" or "random"), else an int in 0..MAX_SEED."""
    s = (seed or "").strip()
    if s.lower() in ("", "-1", "random"):
        return None
    try:
        n = _atoi(s)
    except ValueError:
        raise ParamError("seed", f"seed {s!r}: a whole number from 0 to {MAX_SEED}, or empty for random") from None
    if n < 0 or n > MAX_SEED:
        raise ParamError("seed", f"seed {n}: must be between 0 and {MAX_SEED}, or -1 for random")
    return n


def check_prompts(prompt, negative_prompt):
    """The trimmed prompts; character counts are code points like Go's utf8.RuneCountInString."""
    prompt, negative = (prompt or "").strip(), (negative_prompt or "").strip()
    if not prompt:
        raise ParamError("prompt", "prompt: required; describe the image to generate")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise ParamError("prompt", f"prompt: {len(prompt)} characters, at most {MAX_PROMPT_CHARS} allowed; "
                                   f"shorten it by {len(prompt) - MAX_PROMPT_CHARS}")
    if len(negative) > MAX_PROMPT_CHARS:
        raise ParamError("negative_prompt", f"negative prompt: {len(negative)} characters, at most "
                                            f"{MAX_PROMPT_CHARS} allowed; shorten it by {len(negative) - MAX_PROMPT_CHARS}")
    return prompt, negative


def check_images(n):
    if not isinstance(n, int) or n < 1 or n > MAX_IMAGES:
        raise ParamError("num_images", f"number of images {n}: must be between 1 and {MAX_IMAGES}")
    return n


CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_ulid(now_ms=None):
    """A ULID (48-bit milliseconds + 80 random bits, Crockford base32), the
    app's request id format (app/ids.go), so the host keeps Odoo's id."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in range(25, -1, -1))
