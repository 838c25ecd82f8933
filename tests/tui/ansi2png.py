#!/usr/bin/env python3
"""ansi2png.py - turn a `tmux capture-pane -e -p` dump into a PNG.

    ansi2png.py INPUT.ans OUTPUT.png COLS ROWS [TITLE]

A small terminal renderer: SGR colours (8, 16, 256 and true colour),
bold, dim, italic, underline and reverse, wide characters by East Asian
width, and the box-drawing characters drawn as lines (so borders join
without gaps whatever the font).  Fonts: DejaVu Sans Mono from Debian's
fonts-dejavu-core.  Needs python3-pil.
"""
import re
import sys
import unicodedata

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu/"
SIZE = 17

# A calm dark palette (the 16 ANSI colours), close to what terminals ship.
PALETTE = [
    (0x2e, 0x34, 0x36), (0xe0, 0x4b, 0x4b), (0x6a, 0xb8, 0x3f), (0xe5, 0xb5, 0x3b),
    (0x4f, 0x7d, 0xc9), (0xb0, 0x7c, 0xc6), (0x3d, 0xb8, 0xc0), (0xd3, 0xd7, 0xcf),
    (0x55, 0x57, 0x53), (0xff, 0x6b, 0x6b), (0x8a, 0xe2, 0x34), (0xfc, 0xe9, 0x4f),
    (0x72, 0x9f, 0xcf), (0xd4, 0x9f, 0xe0), (0x5f, 0xe2, 0xe8), (0xee, 0xee, 0xec),
]
DEFAULT_FG = (0xdc, 0xdf, 0xe4)
DEFAULT_BG = (0x1b, 0x1e, 0x24)
FRAME_BG = (0x11, 0x13, 0x17)


def color256(n):
    if n < 16:
        return PALETTE[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return (v, v, v)


class Attr:
    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None
        self.bg = None
        self.bold = self.dim = self.italic = self.under = self.rev = False

    def copy(self):
        a = Attr()
        a.__dict__.update(self.__dict__)
        return a


def apply_sgr(a, params):
    ps = [int(p) if p else 0 for p in params.split(";")] if params else [0]
    i = 0
    while i < len(ps):
        p = ps[i]
        if p == 0:
            a.reset()
        elif p == 1:
            a.bold = True
        elif p == 2:
            a.dim = True
        elif p == 3:
            a.italic = True
        elif p == 4:
            a.under = True
        elif p == 7:
            a.rev = True
        elif p == 22:
            a.bold = a.dim = False
        elif p == 23:
            a.italic = False
        elif p == 24:
            a.under = False
        elif p == 27:
            a.rev = False
        elif 30 <= p <= 37:
            a.fg = PALETTE[p - 30]
        elif p == 39:
            a.fg = None
        elif 40 <= p <= 47:
            a.bg = PALETTE[p - 40]
        elif p == 49:
            a.bg = None
        elif 90 <= p <= 97:
            a.fg = PALETTE[p - 90 + 8]
        elif 100 <= p <= 107:
            a.bg = PALETTE[p - 100 + 8]
        elif p in (38, 48) and i + 1 < len(ps):
            if ps[i + 1] == 5 and i + 2 < len(ps):
                c = color256(ps[i + 2])
                i += 2
            elif ps[i + 1] == 2 and i + 4 < len(ps):
                c = tuple(ps[i + 2:i + 5])
                i += 4
            else:
                c = None
            if p == 38:
                a.fg = c
            else:
                a.bg = c
            i += 1
        i += 1


def width(ch):
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


# The VT100 line-drawing set, which tmux marks with SO ... SI in captures.
ACS = {"q": "─", "x": "│", "l": "┌", "k": "┐", "m": "└", "j": "┘", "t": "├",
       "u": "┤", "w": "┬", "v": "┴", "n": "┼", "~": "·", "a": "▒", "`": "◆",
       "o": "⎺", "s": "⎽", "0": "█"}


def parse(text, cols, rows):
    """A grid of rows x cols cells: (char, Attr) or None after a wide char."""
    grid = [[(" ", Attr()) for _ in range(cols)] for _ in range(rows)]
    a = Attr()
    acs = False
    lines = text.split("\n")
    for y, line in enumerate(lines[:rows]):
        x = 0
        i = 0
        while i < len(line):
            if line[i] in "\x0e\x0f":
                acs = line[i] == "\x0e"
                i += 1
                continue
            if line[i] == "\x1b":
                m = re.match(r"\x1b\[([0-9;]*)([A-Za-z])", line[i:])
                if m:
                    if m.group(2) == "m":
                        apply_sgr(a, m.group(1))
                    i += m.end()
                    continue
                m = re.match(r"\x1b[()][0-9A-Za-z]", line[i:])
                i += m.end() if m else 1
                continue
            ch = line[i]
            i += 1
            if acs:
                ch = ACS.get(ch, ch)
            w = width(ch)
            if w == 0:
                continue
            if x + w <= cols:
                grid[y][x] = (ch, a.copy())
                if w == 2:
                    grid[y][x + 1] = None
            x += w
        # the rest of the row keeps the last background (tmux trims spaces)
        while x < cols:
            if a.bg is not None or a.rev:
                grid[y][x] = (" ", a.copy())
            x += 1
    return grid


# Box drawing: which of (up, down, left, right) each character joins.
BOX = {
    "─": "lr", "│": "ud", "┌": "dr", "┐": "dl", "└": "ur", "┘": "ul",
    "╭": "dr", "╮": "dl", "╰": "ur", "╯": "ul", "├": "udr", "┤": "udl",
    "┬": "dlr", "┴": "ulr", "┼": "udlr",
}
ROUND = set("╭╮╰╯")


def draw_box(d, ch, x0, y0, cw, chh, col, heavy):
    cx = x0 + cw // 2
    cy = y0 + chh // 2
    lw = 2 if heavy else 1
    arms = BOX[ch]
    if ch in ROUND:
        r = min(cw, chh) // 2
        # the corner as a quarter circle joining the two arms
        if ch == "╭":
            d.line([(cx, y0 + chh), (cx, cy + r)], fill=col, width=lw)
            d.line([(cx + r, cy), (x0 + cw, cy)], fill=col, width=lw)
            d.arc([cx, cy, cx + 2 * r, cy + 2 * r], 180, 270, fill=col, width=lw)
        elif ch == "╮":
            d.line([(cx, y0 + chh), (cx, cy + r)], fill=col, width=lw)
            d.line([(x0, cy), (cx - r, cy)], fill=col, width=lw)
            d.arc([cx - 2 * r, cy, cx, cy + 2 * r], 270, 360, fill=col, width=lw)
        elif ch == "╰":
            d.line([(cx, y0), (cx, cy - r)], fill=col, width=lw)
            d.line([(cx + r, cy), (x0 + cw, cy)], fill=col, width=lw)
            d.arc([cx, cy - 2 * r, cx + 2 * r, cy], 90, 180, fill=col, width=lw)
        else:
            d.line([(cx, y0), (cx, cy - r)], fill=col, width=lw)
            d.line([(x0, cy), (cx - r, cy)], fill=col, width=lw)
            d.arc([cx - 2 * r, cy - 2 * r, cx, cy], 0, 90, fill=col, width=lw)
        return
    if "u" in arms:
        d.line([(cx, y0), (cx, cy)], fill=col, width=lw)
    if "d" in arms:
        d.line([(cx, cy), (cx, y0 + chh)], fill=col, width=lw)
    if "l" in arms:
        d.line([(x0, cy), (cx, cy)], fill=col, width=lw)
    if "r" in arms:
        d.line([(cx, cy), (x0 + cw, cy)], fill=col, width=lw)


def blend(a, b, t):
    return tuple(int(a[i] * (1 - t) + b[i] * t) for i in range(3))


def render(grid, cols, rows, title):
    fonts = {
        (False, False): ImageFont.truetype(FONT_DIR + "DejaVuSansMono.ttf", SIZE),
        (True, False): ImageFont.truetype(FONT_DIR + "DejaVuSansMono-Bold.ttf", SIZE),
    }
    try:
        fonts[(False, True)] = ImageFont.truetype(FONT_DIR + "DejaVuSansMono-Oblique.ttf", SIZE)
        fonts[(True, True)] = ImageFont.truetype(FONT_DIR + "DejaVuSansMono-BoldOblique.ttf", SIZE)
    except OSError:
        fonts[(False, True)] = fonts[(False, False)]
        fonts[(True, True)] = fonts[(True, False)]
    f = fonts[(False, False)]
    cw = round(f.getlength("M"))
    asc, desc = f.getmetrics()
    chh = asc + desc + 3
    pad = 18
    bar = 34 if title else 0
    W = cols * cw + 2 * pad
    H = rows * chh + 2 * pad + bar
    img = Image.new("RGB", (W, H), FRAME_BG)
    d = ImageDraw.Draw(img)
    # a window frame: rounded panel, three dots, a title
    d.rounded_rectangle([4, 4, W - 5, H - 5], radius=10, fill=DEFAULT_BG,
                        outline=(0x33, 0x37, 0x40))
    if title:
        for k, c in enumerate([(0xff, 0x5f, 0x56), (0xff, 0xbd, 0x2e), (0x27, 0xc9, 0x3f)]):
            d.ellipse([18 + k * 20, 14, 30 + k * 20, 26], fill=c)
        tf = ImageFont.truetype(FONT_DIR + "DejaVuSans.ttf", 14)
        tw = d.textlength(title, font=tf)
        d.text(((W - tw) / 2, 12), title, font=tf, fill=(0x9a, 0xa0, 0xa8))
        d.line([(5, bar + 4), (W - 6, bar + 4)], fill=(0x2a, 0x2e, 0x36))
    oy = pad + bar
    for y in range(rows):
        for x in range(cols):
            cell = grid[y][x]
            if cell is None:
                continue
            ch, a = cell
            fg = a.fg or DEFAULT_FG
            bg = a.bg or DEFAULT_BG
            if a.rev:
                fg, bg = (a.bg or DEFAULT_BG), (a.fg or DEFAULT_FG)
            if a.dim:
                fg = blend(fg, bg, 0.45)
            w = 2 if (x + 1 < cols and grid[y][x + 1] is None) else 1
            x0 = pad + x * cw
            y0 = oy + y * chh
            if bg != DEFAULT_BG:
                d.rectangle([x0, y0, x0 + w * cw - 1, y0 + chh - 1], fill=bg)
            if ch in BOX:
                draw_box(d, ch, x0, y0, cw, chh, fg, a.bold)
            elif ch != " ":
                font = fonts[(a.bold, a.italic)]
                d.text((x0, y0 + 2), ch, font=font, fill=fg)
            if a.under:
                d.line([(x0, y0 + chh - 3), (x0 + w * cw - 1, y0 + chh - 3)], fill=fg)
    return img


def main():
    if len(sys.argv) < 5:
        sys.exit("usage: ansi2png.py INPUT.ans OUTPUT.png COLS ROWS [TITLE]")
    src, out, cols, rows = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    title = sys.argv[5] if len(sys.argv) > 5 else ""
    with open(src, encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    grid = parse(text, cols, rows)
    render(grid, cols, rows, title).save(out, optimize=True)


if __name__ == "__main__":
    main()
