"""What `docker build` would send as its build context, by Docker's .dockerignore rules.

No Docker engine runs here, so the rules are applied in Python, as Docker documents them
(and as moby/patternmatcher implements them):

- one pattern per line; a line whose first column is `#` is a comment; surrounding
  whitespace is trimmed; `!` makes an exception; each pattern is cleaned like Go's
  filepath.Clean and a leading `/` dropped, so `/foo`, `./foo` and `foo/` all mean `foo`;
- a pattern is anchored at the context root: `*` and `?` never cross `/`, `[...]` is a
  character class, `\\` escapes, `**` matches any number of directories (zero included);
- a path is excluded when a pattern matches it or any of its parent directories, and the
  last matching line decides.

BuildKit reads `<Dockerfile>.dockerignore` beside the Dockerfile in preference to the
context root's `.dockerignore`.
"""

import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Rule:
    pattern: str
    regex: re.Pattern[str]
    exception: bool


def _translate(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*" and pattern[i + 1 : i + 2] == "*":
            i += 2
            if pattern[i : i + 1] == "/":
                i += 1
            out.append(".*" if i >= n else "(?:.*/)?")
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                raise ValueError(f"unterminated character class in {pattern!r}")
            out.append(pattern[i : end + 1])  # Go's [...] and [^...] read the same in Python
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return "^" + "".join(out) + "$"


def parse(text: str) -> list[Rule]:
    """The rules of an ignore file, in order."""
    rules = []
    for raw in text.splitlines():
        if raw.startswith("#"):
            continue
        line = raw.strip()
        if not line:
            continue
        exception = line.startswith("!")
        if exception:
            line = line[1:].strip()
            if not line:
                raise ValueError('illegal exception pattern "!"')
        line = posixpath.normpath(line)
        if len(line) > 1 and line.startswith("/"):
            line = line.lstrip("/")
        rules.append(Rule(line, re.compile(_translate(line)), exception))
    return rules


def excluded(rules: list[Rule], path: str) -> bool:
    """Whether the context-relative, `/`-separated `path` is left out of the context."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    matched = False
    for rule in rules:
        if rule.exception != matched:
            continue  # only an exception can undo a match, only a pattern can make one
        if any(rule.regex.match(candidate) for candidate in candidates):
            matched = not rule.exception
    return matched


def _may_reinclude(rules: list[Rule], directory: str) -> bool:
    """Whether an exception could bring back something under the excluded `directory`."""
    for rule in rules:
        if not rule.exception:
            continue
        literal = re.split(r"[*?\[\\]", rule.pattern, maxsplit=1)[0]
        if literal.startswith(directory + "/"):
            return True  # names something inside
        # With a wildcard it might match inside too. Without one, an exception naming the
        # directory or a parent was already weighed when the directory itself was excluded.
        if literal != rule.pattern and (directory + "/").startswith(literal):
            return True
    return False


def ignore_file_for(context: Path, dockerfile: Path) -> Path | None:
    """The ignore file BuildKit applies for this Dockerfile and context, if any."""
    beside = dockerfile.with_name(dockerfile.name + ".dockerignore")
    if beside.exists():
        return beside
    at_root = context / ".dockerignore"
    return at_root if at_root.exists() else None


def all_files(context: Path) -> set[str]:
    """Every file (and symlink) under `context`, context-relative."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(context):
        base = Path(dirpath).relative_to(context).as_posix()
        for name in filenames + [d for d in dirnames if Path(dirpath, d).is_symlink()]:
            found.add(name if base == "." else f"{base}/{name}")
    return found


def context_files(context: Path, dockerfile: Path) -> set[str]:
    """The files `docker build -f dockerfile context` would send."""
    ignore = ignore_file_for(context, dockerfile)
    rules = parse(ignore.read_text()) if ignore else []
    sent: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(context):
        base = Path(dirpath).relative_to(context).as_posix()
        prefix = "" if base == "." else f"{base}/"
        # Skip whole excluded trees (.git, .venv) unless an exception reaches into them.
        dirnames[:] = [d for d in dirnames if not excluded(rules, prefix + d) or _may_reinclude(rules, prefix + d)]
        links = [d for d in dirnames if Path(dirpath, d).is_symlink()]  # sent as links, not walked
        sent.update(prefix + name for name in filenames + links if not excluded(rules, prefix + name))
    return sent
