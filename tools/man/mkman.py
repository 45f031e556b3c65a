#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""mkman.py - brigade's manual pages, written from one source each, so that they cannot drift:
section 3 from include/brigade.h (a page for every exported function, with the comment above
its declaration, and for every public type, with its definition and comment), sections 1, 5
and 7 from the Markdown pages beside this script (brigade.1.md, brigade-segment.5.md,
brigade.7.md), which are also what the repository shows.

usage: mkman.py HEADER OUTDIR VERSION      writes the pages
       mkman.py HEADER --list              prints the page file names, one a line
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MD_PAGES = ["brigade.1.md", "brigade-segment.5.md", "brigade.7.md"]
DATE = "2026-12-07"


# ---- troff ----

def esc(text):
    """Text for a troff line: backslashes doubled, a leading dot or quote made harmless, what
    is not ASCII as groff's Unicode escapes."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    text = "".join(c if ord(c) < 128 else "\\[u%04X]" % ord(c) for c in text)
    if text[:1] in (".", "'"):
        text = "\\&" + text
    return text


def inline(text):
    """Markdown's `code` and **bold** as bold; the rest escaped."""
    out, pos = [], 0
    for m in re.finditer(r"`([^`]+)`|\*\*([^*]+)\*\*", text):
        out.append(esc(text[pos:m.start()]))
        out.append("\\fB" + esc(m.group(1) or m.group(2)) + "\\fR")
        pos = m.end()
    out.append(esc(text[pos:]))
    line = "".join(out)
    return ("\\&" + line) if line[:1] in (".", "'") else line


def page_head(name, section, version, summary):
    return [".TH %s %s \"%s\" \"brigade %s\" \"brigade manual\"" % (name.upper(), section,
                                                                    DATE, version),
            ".SH NAME", "%s \\- %s" % (esc(name), inline(summary))]


def preformatted(lines):
    return [".PP", ".nf", ".ft CR"] + [esc(l) if l.strip() else "" for l in lines] + \
        [".ft R", ".fi"]


# ---- Markdown pages (a subset: headings, paragraphs, lists, code, tables) ----

def md_table(rows):
    cells = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows
             if not re.match(r"^\|[\s\-:|]+\|$", r.strip())]
    cells = [[re.sub(r"`([^`]*)`", r"\1", c).replace("\\|", "|") for c in r] for r in cells]
    width = [max(len(r[i]) for r in cells if i < len(r)) for i in range(len(cells[0]))]
    return preformatted(["  ".join(c.ljust(width[i]) for i, c in enumerate(r)).rstrip()
                         for r in cells])


def md_page(path, version):
    lines = open(path, encoding="utf-8").read().splitlines()
    title = re.match(r"# (\S+)\((\d)\) - (.*)", lines[0])
    if not title:
        sys.exit("%s: the first line must be '# name(section) - summary'" % path)
    name, section, summary = title.groups()
    out = page_head(name, section, version, summary)
    i, para = 1, []

    def flush():
        if para:
            out.extend([".PP", inline(" ".join(para))])
            para.clear()

    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            flush()
            j = i + 1
            while not lines[j].startswith("```"):
                j += 1
            out.extend(preformatted(lines[i + 1:j]))
            i = j + 1
            continue
        if line.startswith("|"):
            flush()
            j = i
            while j < len(lines) and lines[j].startswith("|"):
                j += 1
            out.extend(md_table(lines[i:j]))
            i = j
            continue
        if line.startswith("## ") or line.startswith("### "):
            flush()
            out.append((".SH " if line.startswith("## ") else ".SS ") +
                       inline(line.lstrip("# ").upper() if line.startswith("## ")
                              else line.lstrip("# ")))
        elif re.match(r"^\s*[-*] ", line):
            flush()
            item = [line.strip()[2:]]
            while i + 1 < len(lines) and lines[i + 1].startswith("  ") and \
                    not re.match(r"^\s*[-*] ", lines[i + 1]):
                i += 1
                item.append(lines[i].strip())
            out.extend([".IP \\(bu 2", inline(" ".join(item))])
        elif not line.strip():
            flush()
        else:
            para.append(line.strip())
        i += 1
    flush()
    return "%s.%s" % (name, section), out


# ---- the header ----

class Decl:
    def __init__(self, kind, name, text, comment, group):
        self.kind, self.name, self.text, self.comment, self.group = kind, name, text, comment, group


def comment_text(block):
    """The words of a /* */ or /** */ comment, one paragraph per blank line."""
    body = re.sub(r"^/\*\*?|\*/$", "", block.strip())
    lines = [re.sub(r"^\s*\* ?", "", l).rstrip() for l in body.splitlines()]
    paras, cur = [], []
    for l in lines:
        if not l.strip():
            if cur:
                paras.append(" ".join(cur))
            cur = []
        elif re.match(r"^-+$", l.strip()):
            continue
        else:
            cur.append(l.strip())
    if cur:
        paras.append(" ".join(cur))
    return paras


def blank_preprocessor(src):
    """src with every preprocessor line (continuations included) blanked, and the
    function-like macros of the API as (name, definition, start offset)."""
    lines, out, macros, pos, cont = src.split("\n"), [], [], 0, False
    start = None
    for line in lines:
        if cont or line.lstrip().startswith("#"):
            m = re.match(r"\s*#define\s+(BRIGADE_CHECK_VERSION|BRG_PLUGIN_TABLE)\(", line)
            if m and not cont:
                start = (m.group(1), pos, [])
            if start:
                start[2].append(line)
            cont = line.endswith("\\")
            if not cont and start:
                macros.append((start[0], "\n".join(start[2]), start[1]))
                start = None
            out.append(" " * len(line))
        else:
            out.append(line)
        pos += len(line) + 1
    return "\n".join(out), macros


def parse_header(path):
    """The exported functions, public types and function-like macros, each with the comment
    that documents it (a declaration with none shares its group's, the one just above it)."""
    raw = open(path, encoding="utf-8").read()
    src, macros = blank_preprocessor(raw)
    for name, text, at in macros:  # a marker the tokenizer finds where the macro stood
        src = src[:at] + "@MACRO:" + name + "@" + src[at + len(name) + 8:]
    token = re.compile(r"/\*.*?\*/|BRG_EXPORT\b[^;]*;"
                       r"|static inline [^;{]*\bbrg_\w+\s*\([^)]*\)\s*\{.*?\n\}"
                       r"|typedef\s+(?:struct|enum)\s+\w+\s*\{.*?\}\s*\w+\s*;"
                       r"|typedef\s+struct\s+\w+\s+\w+\s*;"
                       r"|typedef\s+[^;{]*\(\s*\*\s*\w+\s*\)[^;]*;|@MACRO:(\w+)@", re.S)
    defs = {name: text for name, text, _ in macros}
    decls, section, last_comment, last_end, group = [], None, None, -1, None
    for m in token.finditer(src):
        text = m.group(0)
        between = src[last_end:m.start()] if last_end >= 0 else ""
        adjacent = last_end >= 0 and "\n\n" not in between.replace(" ", "") and \
            not between.strip()
        if not adjacent:
            group = None
        if text.startswith("/*"):
            if re.match(r"/\*\s*---", text):
                section = tuple(comment_text(text))
                last_comment, group = None, None
            else:
                last_comment, group = text, None
            last_end = m.end()
            continue
        if text.startswith("@MACRO"):
            name, kind, text = m.group(1), "macro", defs[m.group(1)]
        elif text.startswith("BRG_EXPORT"):
            name, kind = re.search(r"\b(brg_\w+)\s*\(", text).group(1), "function"
        elif text.startswith("static inline"):
            name, kind = re.search(r"\b(brg_\w+)\s*\(", text).group(1), "function"
            text = text[:text.index("{")].strip() + ";"  # the prototype; the body is the header's
        elif "(*" in text.replace(" ", "") and "{" not in text:  # a function type, no struct
            name, kind = re.search(r"\(\s*\*\s*(\w+)\s*\)", text).group(1), "type"
        else:
            name, kind = re.search(r"(\w+)\s*;\s*$", text).group(1), "type"
        comment = last_comment if adjacent and last_comment else None
        if comment is None and adjacent and group is not None:
            comment = group
        decls.append(Decl(kind, name, text, comment_text(comment) if comment else [], section))
        if comment is not None:
            group = comment
        last_comment = None
        last_end = m.end()
    return decls


def proto_lines(text):
    text = re.sub(r"\bBRG_EXPORT\s+", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    # One argument a line once it is long.
    if len(text) <= 78:
        return [text]
    head, args = text.split("(", 1)
    parts, depth, cur = [], 0, ""
    for ch in args.rstrip(";")[:-1]:  # the list inside the outer parentheses
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    args = parts + [cur.strip()]
    pad = " " * (len(head) + 1)
    return [head + "(" + args[0] + ","] + [pad + a + "," for a in args[1:-1]] + \
        [pad + args[-1] + ");"]


def summary_of(d):
    if not d.comment:
        return {"type": "a type of brigade", "macro": "a macro of brigade"}.get(d.kind,
                                                                               "a call of brigade")
    first = re.split(r"(?<=\.)\s", d.comment[0])[0].rstrip(".")
    while first.count("(") > first.count(")"):  # a sentence that ends inside parentheses
        first = first[:first.rindex("(")].rstrip(" ,;:")
    if len(first) >= 110:
        first = first[:107].rsplit(" ", 1)[0]
        while first.count("(") > first.count(")"):
            first = first[:first.rindex("(")].rstrip(" ,;:")
        first += "..."
    return first


def function_page(d, decls, version):
    out = page_head(d.name, 3, version, summary_of(d))
    out += [".SH SYNOPSIS", ".nf", ".B #include <brigade.h>", ".PP"]
    out += [esc(l) for l in proto_lines(d.text)] + [".fi", ".PP",
                                                     "Link with \\fB$(pkg\\-config \\-\\-libs "
                                                     "brigade)\\fR."]
    # "Returns ..." to the end of its paragraph is the RETURN VALUE; the rest DESCRIPTION.
    desc, ret = [], None
    for p in d.comment or ["See brigade(7)."]:
        at = p.find("Returns")
        if at >= 0 and ret is None:
            ret = p[at:]
            p = p[:at].strip()
        if p:
            desc.append(p)
    out += [".SH DESCRIPTION"]
    for p in desc or [d.comment[0] if d.comment else "See brigade(7)."]:
        out += [".PP", inline(p)]
    out += [".SH RETURN VALUE"]
    returns = re.match(r"\s*(?:BRG_EXPORT|static inline)\s+(.*?)\b" + d.name + r"\s*\(",
                       d.text, flags=re.S).group(1).strip()
    if returns == "void":
        out += ["None."]
    elif ret:
        out += [inline(ret)]
    elif returns in ("int", "int64_t"):
        out += ["As DESCRIPTION says; a negative code is an error: see \\fBbrg_strerror\\fR(3) "
                "and \\fBbrigade\\fR(7)."]
    else:
        out += ["As DESCRIPTION says."]
    prefix = "_".join(d.name.split("_")[:2])  # brg_segment, brg_pool...
    group = {x.name for x in decls if x.kind == "function" and x.group == d.group
             and x.name != d.name}
    same = sorted(group, key=lambda n: (not n.startswith(prefix + "_"), n))[:12]
    if d.group and len(d.group) > 1:  # what its section of the header says of every call
        out += [".SH NOTES", "Of every call under \\fI%s\\fR:" % inline(d.group[0].rstrip("."))]
        for p in d.group[1:]:
            out += [".PP", inline(p)]
    out += [".SH SEE ALSO", ", ".join("\\fB%s\\fR(3)" % esc(n) for n in same) +
            (", " if same else "") + "\\fBbrigade\\fR(7)"]
    return out


def type_page(d, version):
    out = page_head(d.name, 3, version, summary_of(d))
    out += [".SH SYNOPSIS", ".nf", ".B #include <brigade.h>", ".fi"]
    out += preformatted(d.text.splitlines())
    out += [".SH DESCRIPTION"]
    for p in d.comment or ["See brigade(7)."]:
        out += [".PP", inline(p)]
    out += [".SH SEE ALSO", "\\fBbrigade\\fR(7)"]
    return out


def pages(header, version):
    decls = parse_header(header)
    result = {}
    for d in decls:
        page = function_page(d, decls, version) if d.kind == "function" else \
            type_page(d, version)
        result["%s.3" % d.name] = page
    for md in MD_PAGES:
        name, page = md_page(os.path.join(HERE, md), version)
        result[name] = page
    return result


def main():
    if len(sys.argv) == 3 and sys.argv[2] == "--list":
        decls = parse_header(sys.argv[1])
        names = ["%s.3" % d.name for d in decls]
        names += [re.match(r"# (\S+)\((\d)\)", open(os.path.join(HERE, md)).readline())
                  .expand(r"\1.\2") for md in MD_PAGES]
        print("\n".join(names))
        return 0
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    header, outdir, version = sys.argv[1:]
    os.makedirs(outdir, exist_ok=True)
    for name, lines in pages(header, version).items():
        with open(os.path.join(outdir, name), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
