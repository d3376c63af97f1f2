#!/usr/bin/env python3
"""md2man.py IN.md OUT.N VERSION: the markdown of docs/*.N.md as a man(7) page (tables via tbl).

Handles what those pages use, nothing more: '# name(N)' title, '##'/'###' headings, paragraphs,
fenced code blocks, '|' tables, '-'/'1.' lists (nested by indentation, with continuation lines),
`code`, **bold**, *emphasis*, [links](target) (the text is kept). Run by the deb profile.
"""
import re
import sys


def escape(text):
    return text.replace("\\", "\\e")


def inline(text, cell=False):
    """Markdown inline markup to roff font changes; escapes everything else. In a table cell
    (cell) code spans get break points (breakable)."""
    codes = []

    def keep_code(m):
        codes.append(m.group(1))
        return "\0%d\0" % (len(codes) - 1)

    text = re.sub(r"``\s?(.+?)\s?``", keep_code, text, flags=re.S)
    text = re.sub(r"`([^`]+)`", keep_code, text)
    text = escape(text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\*\*(.+?)\*\*", r"\\fB\1\\fR", text, flags=re.S)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"\\fI\1\\fR", text)
    text = re.sub(r"\0(\d+)\0", lambda m: "\\fB" + (breakable if cell else str)(escape(codes[int(m.group(1))]).replace("-", "\\-")) + "\\fR", text)
    return text


def breakable(code):
    """A code span that may break after / = , : _ - (\\: is an invisible break point): a long path in
    a narrow table column otherwise makes troff warn "can't break line"."""
    return re.sub(r"([/=,:_]|\\-)(?=.)", lambda m: m.group(1) + "\\:", code)


def line(text):
    """A text line that roff will not take for a request."""
    return "\\&" + text if text[:1] in (".", "'") else text


def cells(row):
    row = row.strip()
    row = row[1:] if row.startswith("|") else row
    row = row[:-1] if row.endswith("|") and not row.endswith("\\|") else row
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", row)]


def table(rows, out):
    head = cells(rows[0])
    body = [cells(r) for r in rows[2:]]
    n = len(head)
    if n > 3 or any(len(c) > 400 for cs in body for c in cs):
        # Four or more columns do not fit 80 characters (troff: "can't break line"), and a long
        # cell in a narrow column outgrows a page (tbl: "table text block will not fit on one
        # page"): one entry per row instead, the first cell as the tag, the others under their headers.
        for cs in body:
            cs = (cs + [""] * n)[:n]
            out.append(".TP")
            out.append(line(inline(cs[0], True)))
            first = True
            for h, c in zip(head[1:], cs[1:]):
                if not c:
                    continue
                if not first:
                    out.append(".br")
                out.append(line("\\fI" + inline(h) + "\\fR: " + inline(c, True)))
                first = False
        out.append(".PP")
        return
    out.append(".TS")
    out.append("tab(\t);")
    out.append(" ".join(["lb"] * (n - 1) + ["lbx"]))
    out.append(" ".join(["l"] * (n - 1) + ["lx"]) + ".")
    def row(cs):
        cs = (cs + [""] * n)[:n]
        return "\t".join("T{\n" + line(inline(c, True)) + "\nT}" for c in cs)
    out.append(row(head))
    out.append("_")
    for cs in body:
        out.append(row(cs))
    out.append(".TE")


def lines_of(texts):
    """Markdown lines of one block as roff lines; inline markup may span lines."""
    return [line(l) for l in inline("\n".join(texts)).split("\n")]


ITEM = re.compile(r"^(\s*)([-*]|\d+\.)\s+(.*)$")


def convert(md, version):
    lines = md.split("\n")
    out = []
    m = re.match(r"#\s+(\S+)\((\d)\)", lines[0])
    if not m:
        sys.exit("md2man: the first line must be '# name(N)'")
    out.append("'\\\" t")
    out.append('.TH "%s" "%s" "" "emperor %s" "emperor manual"' % (m.group(1).upper(), m.group(2), version))
    # Ragged right: a justified narrow table column warns "cannot adjust line" under man.
    out.append(".ad l")
    i = 1
    para = []
    lists = []  # indentation of each open list level
    item = None  # text lines of the list item being collected

    def flush_para():
        nonlocal para
        if para:
            out.append(".PP")
            out.extend(lines_of(para))
            para = []

    def flush_item():
        nonlocal item
        if item is not None:
            out.extend(lines_of(item))
            item = None

    def close_lists(to_indent=-1):
        flush_item()
        while lists and lists[-1] > to_indent:
            lists.pop()
            out.append(".RE" if lists else ".PP")

    while i < len(lines):
        l = lines[i]
        if l.startswith("```"):
            flush_para()
            flush_item()
            indent = 4 if not lists else 2
            out.append(".PP" if not lists else ".IP")
            out.append(".RS %d" % indent)
            out.append(".nf")
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                out.append(line(escape(lines[i])))
                i += 1
            out.append(".fi")
            out.append(".RE")
            i += 1
            continue
        if l.startswith("#"):
            flush_para()
            close_lists()
            level = len(l) - len(l.lstrip("#"))
            title = l.lstrip("#").strip().replace("`", "")
            out.append((".SH " if level <= 2 else ".SS ") + '"' + escape(title if level > 2 else title.upper()) + '"')
            i += 1
            continue
        if l.startswith("|"):
            flush_para()
            close_lists()
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(lines[i])
                i += 1
            table(rows, out)
            continue
        im = ITEM.match(l)
        if im:
            flush_para()
            indent = len(im.group(1))
            if lists and indent < lists[-1]:
                close_lists(indent)
            if not lists or indent > lists[-1]:
                flush_item()
                if lists:
                    out.append(".RS")
                lists.append(indent)
            flush_item()
            tag = "\\(bu" if im.group(2) in "-*" else im.group(2)
            out.append('.IP "%s" %d' % (tag, 3 if tag == "\\(bu" else 4))
            item = [im.group(3)]
            i += 1
            continue
        if not l.strip():
            flush_para()
            flush_item()
            i += 1
            continue
        if lists and l.startswith(" "):
            if item is None:
                # A paragraph after a blank line belongs to the item it is indented under.
                indent = len(l) - len(l.lstrip())
                while len(lists) > 1 and lists[-1] >= indent:
                    lists.pop()
                    out.append(".RE")
                out.append(".IP")
                item = []
            item.append(l.strip())
            i += 1
            continue
        close_lists()
        para.append(l.strip())
        i += 1
    flush_para()
    close_lists()
    return ascii_only("\n".join(out) + "\n")


def ascii_only(text):
    """Every non-ASCII character as a groff escape (\\[u2014]): groff reads bytes, not UTF-8."""
    return re.sub(r"[^\x00-\x7f]", lambda m: "\\[u%04X]" % ord(m.group()), text)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: md2man.py IN.md OUT VERSION")
    with open(sys.argv[1], encoding="utf-8") as f:
        text = convert(f.read(), sys.argv[3])
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write(text)
