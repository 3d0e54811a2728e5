"""The claims check: every number the prose of a notebook states is printed by that notebook.

``claim_problems(nb)`` reads one stored notebook and returns the numbers of its markdown cells
that none of its own outputs shows; ``python tools/claims.py [NN ...]`` prints them per notebook.

What counts as a claim (in a markdown cell)
    * a decimal: ``0.94``, ``.5``, ``5.077`` (any size);
    * a percentage: ``95 %``, ``95%``, ``4.5 per cent`` (any size);
    * a ratio: ``1.05×``, ``27x`` (any size; ``3×3`` or ``2 × 128`` is a shape, not a ratio);
    * an integer >= 10, also with thousands separators (``1,692``, ``63 000``, thin spaces) or a
      multiplier (``110M``, ``63k``, ``3.3 billion``);
    * a power of ten: ``10⁻¹⁰``, ``3 × 10⁻⁴``, ``3e-4``, ``10^{-4}`` inside LaTeX.
    Numbers inside LaTeX ``$...$`` count like any other; a minus sign is ignored (``−0.070`` is
    compared as 0.070: prose says "drops by 0.5" where code prints -0.5).
    Not numbers: digits glued to a letter, ``_``, ``@`` or ``#`` (``word2vec``, ``WordSim353``,
    ``GPT-2``, ``3CosAdd``, ``x_1``, ``2nd``).

Where it must appear: the outputs of the SAME notebook
    stdout streams, ``text/plain`` (except the repr of a figure), ``text/html`` with tags, style
    and script removed, and ``text/markdown``; not stderr (warnings, progress bars), not error
    tracebacks, not images (a value read off a plot must also be printed). The literal values
    assigned in the ``parameters`` cell count too: they are the notebook's stated settings, shown
    to the reader, and "we train for 1500 steps" refers to them.

At the precision written (rounding allowed)
    A prose number with its last written digit at place u (u = 0.01 for ``0.94``) matches a
    printed number v when |v - p| <= u/2 and v is printed at least as precisely (``0.94``
    matches 0.9412 and 0.94, not 0.9 nor 0.95). A percentage p % matches a printed share
    (``95 %`` matches 0.951) or a printed p (``95.1 %``, or 95.1 in a "%" column); a printed
    percentage also counts as its share, so ``0.95`` matches ``95.1 %``. A decimal's trailing zeros
    may be missing from the print, as NumPy drops them: ``0.540`` matches a printed ``0.54`` (but
    not ``0.544``). An integer's trailing
    zeros are digits unless an approximation word precedes it ("about", "around", "roughly",
    "nearly", "almost", "approximately", "~", "≈"): ``about 63 000`` matches 62,832, ``63 000``
    alone does not.

Cited figures pass
    A citation is ``[source, locator]`` in square brackets: a source with a letter in it, a comma,
    and a locator that starts with Table, Tab., Figure, Fig., Section, Sec., §, Eq., Equation,
    Appendix, App., Algorithm or p. and has a number: ``[BERT paper, Table 5]``, ``[BERT paper, Appendix A.2]``,
    ``[ELMo paper, §5.3]``, ``[Devlin et al. 2019, Table 1 and §4.1]``, also as a markdown link
    ``[BERT paper, Table 5](https://...)``. It covers the numbers before it in the same sentence
    (a table row or list item counts as one), back to the previous citation or ``;``; a citation
    inside parentheses covers only the parenthesis. So write the measured number in another
    sentence, or after the citation: "the paper lost 3.5 points [BERT paper, Table 5]; we lose 0.4".

Structural numbers pass (the whole allow-list; each is a name or an address, never a result)
    * inside a code span or a fenced code block: code is not a claim;
    * inside a URL or a link target: an address;
    * inside a citation's brackets: the locator and the source's year;
    * after an index word: notebook, section, §, chapter, layer, head, step, exercise, table,
      figure, fig., equation, eq., cell, with the list or range that follows ("layers 0–1",
      "sections 2, 3 and 5", "§5.3"; after "and"/"or" only one or two digits, so "layer 2 and 512
      positions" still checks 512): positions in the course or in a paper;
    * a zero-padded two-digit number and the list or range it starts ("(09, 10)", "02–04",
      "in 06 and 11"): notebook numbers are written that way and no result is;
    * the number of a heading ("## 10 · The limit") and of a numbered list item;
    * a version with two dots ("8.0.1");
    * a year 1900–2100 right after "et al." or "(" ("Levy et al. 2015 recommend", "(2019, Attention
      is not Explanation)"), or after a capitalised name, "in", "since" or "until" when a punctuation
      mark ends it ("Mikolov 2013)", "in 2018."): "in 2000 steps" is a count, not a year;
    * sub- and superscripts: ``x_{t-1}``, ``10000^(2i/d)``, ``count^0.75``: indices and
      exponents of a formula (its base still counts).
    Standard model sizes ("BERT-base has 110M parameters") are not structural: cite them.

The Exercises section
    From a heading containing "Exercises" to the next heading containing "Solution" (or the
    next heading of the same or higher level), markdown is skipped: the exercises' text sets the
    learner's task, its numbers are inputs and settings, not results. The solutions, which state
    what the solution code shows, are checked.

Known limits: a small number at coarse precision ("5 %", "12") matches something in almost
every notebook by chance, so the check guards decimals and large numbers best; a measured number
before a citation in the same clause passes as cited.
"""

from __future__ import annotations

import argparse
import ast
import html
import re
import sys
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path

import nbformat

# ---------------------------------------------------------------- reading numbers


SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
# 1,692 or 63 000 (space, thin space, no-break space): first group 1-3 digits, then groups of 3
GROUPED = r"[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]{1,3}(?:[ \u2009\u202f\u00a0][0-9]{3})+(?![0-9])"
PROSE_NUMBER = re.compile(rf"(?:{GROUPED}|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+")
SCIENTIFIC = re.compile(r"(?<![\w.])(?P<mantissa>[0-9]+(?:\.[0-9]+)?)[eE](?P<exponent>[-+−]?[0-9]+)\b")  # 3e-3
POWER = re.compile(
    r"(?:(?P<mantissa>[0-9]+(?:\.[0-9]+)?)\s*(?:×|·|\\times|\\cdot)\s*)?"
    r"10(?:(?P<sup>[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)|\^\{?(?P<tex>[-−+]?[0-9]+)\}?)"
)
MULTIPLIERS = {"k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "bn": 1e9,
               "thousand": 1e3, "million": 1e6, "billion": 1e9}
APPROXIMATE = re.compile(r"(?:\babout|\baround|\broughly|\bnearly|\balmost|\bapproximately|~|≈|∼)\s*$", re.I)
OUTPUT_NUMBER = re.compile(
    r"(?<![0-9.])(?:[0-9]{1,3}(?:[,_\u2009\u202f][0-9]{3})+(?![0-9])|[0-9]+)(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?"
    r"|(?<![0-9])\.[0-9]+(?:[eE][-+]?[0-9]+)?"
)


@dataclass(frozen=True)
class Printed:
    """A number as printed: its magnitude and the place of its last digit (0.01 for 0.94)."""

    value: float
    unit: float


def parse_printed(text: str) -> Printed:
    """``"1,692"`` -> Printed(1692, 1); ``"0.9412"`` -> Printed(0.9412, 1e-4); ``"1.5e-04"`` -> (1.5e-4, 1e-5)."""
    digits = re.sub(r"[,_ \u2009\u202f\u00a0]", "", text)
    mantissa, _, exponent = digits.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    power = int(exponent) if exponent else 0
    return Printed(abs(float(mantissa or 0) * 10.0**power), 10.0 ** (power - decimals))


def printed_numbers(text: str) -> list[Printed]:
    """Every number in an output text; a percentage also as its share (95.1 % -> 0.951)."""
    found = []
    for m in OUTPUT_NUMBER.finditer(text):
        number = parse_printed(m.group())
        found.append(number)
        if re.match(r"\s?%", text[m.end():m.end() + 2]):
            found.append(Printed(number.value / 100, number.unit / 100))
        if re.search(r"[,_\u2009\u202f]", m.group()):  # "1,692" might be the list 1, 692: keep both readings
            found += [parse_printed(part) for part in re.split(r"[,_\u2009\u202f]", m.group()) if part]
    return found


# ---------------------------------------------------------------- what the notebook prints


def output_texts(nb: nbformat.NotebookNode) -> list[str]:
    """The text a reader sees printed by the notebook's code cells (see the module docstring)."""
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "stream" and out.get("name") == "stdout":
                texts.append(as_text(out.get("text", "")))
            elif kind in ("execute_result", "display_data"):
                data = out.get("data", {})
                if "text/plain" in data and not any(k.startswith("image/") for k in data):
                    texts.append(as_text(data["text/plain"]))  # beside an image it is only the figure's repr
                if "text/html" in data:
                    texts.append(html_text(as_text(data["text/html"])))
                if "text/markdown" in data:
                    texts.append(as_text(data["text/markdown"]))
    return texts


def as_text(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def html_text(source: str) -> str:
    """The visible text of an HTML output: no style or script blocks, tags become spaces."""
    source = re.sub(r"<(style|script)\b.*?</\1\s*>", " ", source, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]*>", " ", source))


def parameter_texts(nb: nbformat.NotebookNode) -> list[str]:
    """The literal values assigned at the top level of the cell tagged ``parameters``."""
    cell = next((c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])), None)
    if cell is None:
        return []
    try:
        tree = ast.parse(cell.source)
    except SyntaxError:
        return []
    values = []
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            if any(isinstance(n, ast.Constant) and isinstance(n.value, (int, float)) and not isinstance(n.value, bool)
                   for n in ast.walk(node.value)):
                values.append(ast.get_source_segment(cell.source, node.value) or "")
    return values


class PrintedPool:
    """The numbers a notebook prints, sorted, for lookups at a precision."""

    def __init__(self, numbers: list[Printed]) -> None:
        numbers = sorted(numbers, key=lambda n: n.value)
        self.values = [n.value for n in numbers]
        self.units = [n.unit for n in numbers]

    def has(self, value: float, unit: float) -> bool:
        """A number printed at least as precisely as ``unit`` that rounds to ``value`` at that precision."""
        slack = unit * 1e-9
        i = bisect_left(self.values, value - unit / 2 - slack)
        while i < len(self.values) and self.values[i] <= value + unit / 2 + slack:
            if self.units[i] <= unit + slack:
                return True
            i += 1
        return False

    def has_exactly(self, value: float, unit: float) -> bool:
        """A number printed with exactly the digits of ``value`` at precision ``unit``."""
        slack = unit * 1e-6
        i = bisect_left(self.values, value - slack)
        while i < len(self.values) and self.values[i] <= value + slack:
            if abs(self.units[i] - unit) <= slack:
                return True
            i += 1
        return False


def printed_pool(nb: nbformat.NotebookNode) -> PrintedPool:
    numbers = [n for text in output_texts(nb) + parameter_texts(nb) for n in printed_numbers(text)]
    return PrintedPool(numbers)


# ---------------------------------------------------------------- what the prose claims


@dataclass(frozen=True)
class Claim:
    """A number stated in prose: as written, its value and precision, and where it stands."""

    text: str
    kind: str  # "decimal", "percent", "ratio", "integer" or "power"
    value: float
    unit: float
    start: int
    end: int
    cited: bool = False


@dataclass(frozen=True)
class Finding:
    """A claim that the notebook never prints, with the sentence it appears in."""

    cell: int
    text: str
    kind: str
    sentence: str

    def __str__(self) -> str:
        return f"cell {self.cell}: {self.text!r} ({self.kind}) is printed nowhere in this notebook: {self.sentence}"


INDEX_WORDS = r"notebooks?|sections?|chapters?|layers?|heads?|steps?|exercises?|tables?|figures?|fig\.|equations?|eqs?\.|cells?"
# a list or range of indices: "0–1", "3, 4 and 5", "5.3"; after "and"/"or" only two digits ("layer 2 and 512 positions")
NUMBER_LIST = r"[0-9]+(?:\.[0-9]+)*(?:\s*(?:,|to|–|—|-)\s*[0-9]+(?:\.[0-9]+)*|\s+(?:and|or|&)\s+[0-9]{1,2}\b)*"
STRUCTURAL = [
    re.compile(rf"(?i)(?:\b(?:{INDEX_WORDS})[ \t]*|§[ \t]*)(?P<n>{NUMBER_LIST})"),  # "layers 0–1", "§5.3"
    re.compile(r"(?<![0-9.,])(?P<n>0[0-9](?![0-9.,]?[0-9])(?:\s*(?:,|and|or|to|–|—|-)\s*[0-9]{2}\b)*)"),  # "(09, 10)"
    re.compile(r"(?m)^[ \t]*#{1,6}[ \t]+(?P<n>[0-9]+(?:\.[0-9]+)*)"),  # "## 10 · The limit"
    re.compile(r"(?m)^[ \t]*(?P<n>[0-9]+)[.)][ \t]"),  # "10. a list item"
    re.compile(r"(?P<n>(?<![0-9.])[0-9]+(?:\.[0-9]+){2,})"),  # a version, "8.0.1"
    re.compile(r"(?:\bet al\.,?|\()[ \t]*(?P<n>(?:19|20)[0-9]{2}|2100)\b"),  # years: "et al. 2015", "(2019,"
    re.compile(r"(?:\b[A-Z][\w&-]*,?|\b[Ii]n|\bsince|\buntil)[ \t]+(?P<n>(?:19|20)[0-9]{2}|2100)(?=[.,;:)\]!?]|\s*$)"),
    re.compile(r"(?P<n>[\^_](?:\{[^{}\n]*\}|\([^()\n]*\)|[-−]?[0-9.]*[0-9]|\\?[A-Za-z]+))"),  # sub- and superscripts
    re.compile(r"(?P<n>\\[A-Za-z]+)"),  # LaTeX commands
]
CITATION = re.compile(
    r"\[(?P<source>[^\[\]\n]*[A-Za-z][^\[\]\n]*?),\s*"
    r"(?P<locator>(?:Table|Tab\.|Figure|Fig\.|Section|Sec\.|§|Eq\.|Equation|Appendix|App\.|Algorithm|p\.|pp\.)"
    r"\s*(?:[A-Z]\.?)?[0-9][^\[\]\n]*)\]"
)
CODE_AND_ADDRESSES = [
    re.compile(r"(?ms)^[ \t]*(`{3,}|~{3,}).*?(?:^[ \t]*\1|\Z)"),  # fenced code
    re.compile(r"(`+)[^`]+?\1"),  # code spans
    re.compile(r"(?s)<!--.*?-->"),
    re.compile(r"<[A-Za-z/!][^>\n]*>"),  # HTML tags and their attributes
    re.compile(r"(?<=\])\([^)\s]*(?:\s+\"[^\"]*\")?\)"),  # link targets: [text](target)
    re.compile(r"\b(?:https?://|www\.)\S+"),
]
SUFFIX = re.compile(r"(?P<space>[ \u2009\u202f\u00a0]?)(?P<word>%|×|per ?cent\b|thousand\b|million\b|billion\b|[A-Za-z]+)?")


def blank(text: str, start: int, end: int) -> str:
    """``text`` with [start, end) replaced by spaces (newlines kept), so offsets stay valid."""
    return text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


def blank_all(text: str, pattern: re.Pattern, group: str | int = 0) -> str:
    for m in reversed(list(pattern.finditer(text))):
        text = blank(text, m.start(group), m.end(group))
    return text


def prose_claims(markdown: str) -> tuple[str, list[Claim]]:
    """The claims of a markdown text, and the text they were read from (code, addresses and the
    insides of citations blanked; same offsets as ``markdown``), which gives the sentences.

    >>> [c.text for c in prose_claims("NSP accuracy 0.910 after 1,500 steps in layer 2 (`lr = 0.001`).")[1]]
    ['0.910', '1,500']
    """
    prose = markdown
    for pattern in CODE_AND_ADDRESSES:
        prose = blank_all(prose, pattern)
    citations = [(m.start(), m.end()) for m in CITATION.finditer(prose)]
    for start, end in citations:
        prose = blank(prose, start + 1, end - 1)  # the locator and the source's year are not claims
    claims = [power_claim(m) for m in POWER.finditer(prose)] + [power_claim(m) for m in SCIENTIFIC.finditer(prose)]
    numbers = prose
    for c in claims:
        numbers = blank(numbers, c.start, c.end)
    for pattern in STRUCTURAL:
        numbers = blank_all(numbers, pattern, "n" if "n" in pattern.groupindex else 0)
    claims += [c for m in PROSE_NUMBER.finditer(numbers) if (c := number_claim(numbers, m)) is not None]
    claims.sort(key=lambda c: c.start)
    cited = cited_spans(prose, citations)
    claims = [Claim(**{**c.__dict__, "cited": any(a <= c.start < b for a, b in cited)}) for c in claims]
    return prose, claims


def power_claim(m: re.Match) -> Claim:
    """``10⁻¹⁰`` -> 1e-10 at precision 1e-10; ``3.5 × 10⁻⁴`` and ``3.5e-4`` -> 3.5e-4 at precision 1e-5."""
    if "exponent" in m.re.groupindex:  # 3.5e-4
        exponent = m.group("exponent")
    else:  # 10⁻⁴ or, in LaTeX, 10^{-4}
        exponent = (m.group("sup") or "").translate(SUPERSCRIPTS) or m.group("tex")
    mantissa = m.group("mantissa") or "1"
    decimals = len(mantissa.partition(".")[2])
    power = int(exponent.replace("−", "-"))
    return Claim(m.group(), "power", float(mantissa) * 10.0**power, 10.0 ** (power - decimals), m.start(), m.end())


def number_claim(text: str, m: re.Match) -> Claim | None:
    """The claim a number in the prose makes, or None for a name, an ordinal or a small integer."""
    before = text[max(0, m.start() - 2):m.start()]
    if before[-1:] and (before[-1].isalpha() or before[-1] in "_@#"):
        return None  # word2vec, WordSim353, x_1
    if before[-1:] in ("-", "/", ".") and before[:1].isalpha():
        return None  # GPT-2, SimLex-999
    written = m.group()
    suffix = SUFFIX.match(text, m.end())
    word = suffix.group("word") or ""
    kind, multiplier, end = ("decimal" if "." in written else "integer"), 1.0, m.end()
    if word == "%" or word.replace(" ", "") == "percent":
        kind, end = "percent", suffix.end()
    elif word in ("×", "x") and not suffix.group("space") and not re.match(r"\w|\s*[0-9]", text[suffix.end():]):
        kind, end = "ratio", suffix.end()
    elif word in MULTIPLIERS and (word.isalpha() and len(word) > 2 or not suffix.group("space")):
        multiplier, end = MULTIPLIERS[word], suffix.end()
    elif word and not suffix.group("space") and word not in ("s", "ms"):
        return None  # 3CosAdd, 2nd, 2D: part of a name
    digits = re.sub(r"[, \u2009\u202f\u00a0]", "", written)
    decimals = len(digits.partition(".")[2])
    value = float(digits) * multiplier
    if kind == "integer" and value < 10:
        return None
    unit = 10.0**-decimals
    if kind == "integer" and APPROXIMATE.search(text[max(0, m.start() - 16):m.start()]):
        unit = 10.0 ** (len(digits) - len(digits.rstrip("0")))  # "about 63 000": the zeros are not digits
    return Claim(text[m.start():end], kind, value, unit * multiplier, m.start(), end)


def sentence_starts(text: str) -> list[int]:
    """Where each sentence, list item, table row or heading of a markdown text starts."""
    starts = {0}
    for m in re.finditer(r"\n[ \t]*\n", text):
        starts.add(m.end())
    for m in re.finditer(r"(?m)^[ \t]*(?:[-*+][ \t]|[0-9]+[.)][ \t]|\||#|\$\$)", text):
        starts.add(m.start())
        line_end = text.find("\n", m.start())
        if text[m.end() - 1] in "|#$" and line_end != -1:
            starts.add(line_end + 1)  # a table row, heading or display formula is a sentence of its own
    for m in re.finditer(r"[.!?][*_]*\s+(?=[A-Z(\"*\[])", text):
        starts.add(m.end())
    return sorted(starts)


def cited_spans(text: str, citations: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The stretch of text each citation covers: back to its sentence start, the previous citation,
    a ';' or, inside parentheses, the opening parenthesis."""
    starts = sentence_starts(text)
    spans, previous_end = [], 0
    for cite_start, cite_end in citations:
        begin = max(starts[bisect_left(starts, cite_start + 1) - 1], previous_end)
        begin = max(begin, text.rfind(";", begin, cite_start) + 1)
        depth = 0
        for i in range(cite_start - 1, begin - 1, -1):
            depth += {")": 1, "(": -1}.get(text[i], 0)
            if depth < 0:
                begin = i
                break
        spans.append((begin, cite_start))
        previous_end = cite_end
    return spans


def sentence_at(markdown: str, text: str, offset: int) -> str:
    """The sentence of ``markdown`` around ``offset``, on one line."""
    starts = sentence_starts(text)
    i = bisect_left(starts, offset + 1) - 1
    end = starts[i + 1] if i + 1 < len(starts) else len(markdown)
    sentence = " ".join(markdown[starts[i]:end].split())
    return sentence if len(sentence) <= 400 else sentence[:397] + "..."


# ---------------------------------------------------------------- the check


def checked_markdown(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """(cell index, source) of every markdown cell, with the exercises' statements blanked."""
    cells, exercises_level = [], None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        source = cell.source
        prose = blank_all(source, CODE_AND_ADDRESSES[0])  # a '#' comment in fenced code is no heading
        offset = 0
        for line in prose.splitlines(keepends=True):
            heading = re.match(r"[ \t]*(#{1,6})[ \t]", line)
            if heading:
                level = len(heading.group(1))
                if "exercises" in line.lower():
                    exercises_level = level
                elif exercises_level is not None and ("solution" in line.lower() or level <= exercises_level):
                    exercises_level = None
            if exercises_level is not None:
                source = blank(source, offset, offset + len(line))
            offset += len(line)
        cells.append((index, source))
    return cells


def claim_problems(nb: nbformat.NotebookNode) -> list[Finding]:
    """Every number in the notebook's markdown that its own outputs do not print; [] when all are.

    The rules (what is a claim, what matches, what passes as cited or structural) are those of the
    module docstring.
    """
    if not isinstance(nb, nbformat.NotebookNode) or "cells" not in nb:
        raise TypeError(f"nb must be a notebook read with nbformat.read(path, as_version=4), got {type(nb).__name__}")
    pool = printed_pool(nb)
    findings = []
    for index, source in checked_markdown(nb):
        text, claims = prose_claims(source)
        for claim in claims:
            if claim.cited or is_printed(pool, claim):
                continue
            findings.append(Finding(index, claim.text, claim.kind, sentence_at(nb.cells[index].source, text, claim.start)))
    return findings


def is_printed(pool: PrintedPool, claim: Claim) -> bool:
    """Whether the notebook prints the claim at the precision written (module docstring)."""
    scales = [1.0, 0.01] if claim.kind == "percent" else [1.0]  # 95.1 % is printed as 95.1 or as 0.951
    zeros = re.match(r"[0-9, \u2009\u202f\u00a0]*\.[0-9]*?(0*)(?![0-9])", claim.text)
    trimmed = claim.unit * 10.0 ** len(zeros.group(1)) if zeros and claim.kind != "power" else None
    for scale in scales:
        if pool.has(claim.value * scale, claim.unit * scale):
            return True
        if trimmed and pool.has_exactly(claim.value * scale, trimmed * scale):  # NumPy prints 0.540 as 0.54
            return True
    return False


def report(paths: list[Path]) -> str:
    """A markdown report: per notebook, each number its outputs do not print, with its sentence."""
    lines = []
    for path in paths:
        findings = claim_problems(nbformat.read(path, as_version=4))
        lines += [f"## {path.name}: {len(findings)} flagged", ""]
        lines += [f"- cell {f.cell}, **{f.text}** ({f.kind}): {f.sentence}" for f in findings]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    if __package__ in (None, ""):  # run as `python tools/claims.py`: make the repository root importable
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tools.runner import notebook_paths

    parser = argparse.ArgumentParser(prog="python tools/claims.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("selection", nargs="*", help="notebook numbers or name prefixes, e.g. 03 09")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root (default: here)")
    args = parser.parse_args(argv)
    if not (args.root / "notebooks").is_dir():
        parser.error(f"{args.root} has no notebooks/ folder: run from the repository root or pass --root")
    text = report(notebook_paths(args.root / "notebooks", args.selection))
    print(text)
    return 1 if re.search(r": [1-9][0-9]* flagged", text) else 0


if __name__ == "__main__":
    sys.exit(main())
