"""MkDocs hook: pages built from the repository's own files.

- `--8<-- "PATH"` on a line of its own includes a file of the repository (`bench/RESULTS.md`);
  `--8<-- "PATH:NAME"` includes the part of it between `<!-- --8<-- [start:NAME] -->` and
  `<!-- --8<-- [end:NAME] -->` (the README's comparison table). A missing file or part stops the
  build.
- Links to files outside the site (tests that prove a claim, sources, manifests) would be broken
  there: they become the path in code, or a link into the repository's web view when
  `repo_url` is set in mkdocs.yml. README links into `docs/content/` become links between pages.
"""
import posixpath
import re
from pathlib import Path

from mkdocs.exceptions import PluginError

ROOT = Path(__file__).resolve().parent.parent
INCLUDE = re.compile(r'^--8<-- "([^":]+)(?::([\w-]+))?"\s*$', re.MULTILINE)
REPOSITORY_FOLDERS = ("Tests/", "Sources/", "bench/", "examples/", "manifests/", "policies/", ".ci/")
LINK = re.compile(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)\)")  # links, not images


def include(match):
    path, part = match.group(1), match.group(2)
    file = ROOT / path
    if not file.is_file():
        raise PluginError(f"--8<-- {path}: no such file in the repository")
    text = file.read_text(encoding="utf-8")
    if part is None:
        return text
    start, end = f"<!-- --8<-- [start:{part}] -->", f"<!-- --8<-- [end:{part}] -->"
    if start not in text or end not in text:
        raise PluginError(f"--8<-- {path}:{part}: {path} has no part marked {start} ... {end}")
    return text.split(start, 1)[1].split(end, 1)[0].strip() + "\n"


def on_page_markdown(markdown, page, config, files):
    markdown = INCLUDE.sub(include, markdown)
    page_dir = posixpath.dirname(page.file.src_uri) or "."
    repo_url = (config.get("repo_url") or "").rstrip("/")

    def rewrite(match):
        text, target = match.group(1), match.group(2)
        if target.startswith("docs/content/"):
            return f"[{text}]({posixpath.relpath(target[len('docs/content/'):], page_dir)})"
        if target.startswith(REPOSITORY_FOLDERS):
            if repo_url:
                return f"[{text}]({repo_url}/blob/main/{target})"
            return text if text.startswith("`") else f"{text} (`{target}`)"
        return match.group(0)

    return LINK.sub(rewrite, markdown)
