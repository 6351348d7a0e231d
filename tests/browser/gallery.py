"""The visual tour's gallery: one HTML page showing every screenshot the tour took, labelled
with its screen, language and width, and what the checks found on it (issue 13, "How it is
shown"). It lives beside the screenshots in test-artifacts/tour/ and links them relatively,
so the folder can be zipped or served as it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from pathlib import Path

TOUR = Path(__file__).resolve().parents[2] / "test-artifacts" / "tour"


@dataclass(frozen=True)
class Shot:
    """One screenshot: a screen, in one language, at one viewport width."""

    screen: str
    title: str
    lang: str
    width: int
    file: str
    problems: tuple[str, ...] = ()


@dataclass
class Gallery:
    """The screenshots in the order taken; `write()` makes index.html."""

    folder: Path = TOUR
    shots: list[Shot] = field(default_factory=list)

    def path_for(self, screen: str, lang: str, width: int) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / f"{screen}-{lang}-{width}.png"

    def add(self, shot: Shot) -> None:
        self.shots.append(shot)

    def problems(self) -> list[str]:
        return [
            f"{shot.screen} ({shot.lang}, {shot.width} px): {problem}"
            for shot in self.shots
            for problem in shot.problems
        ]

    def write(self) -> Path:
        screens: dict[str, list[Shot]] = {}
        for shot in self.shots:
            screens.setdefault(shot.screen, []).append(shot)
        sections = [_section(screen, shots) for screen, shots in screens.items()]
        index = self.folder / "index.html"
        index.write_text(
            _PAGE.format(
                count=len(self.shots),
                problems=len(self.problems()),
                toc="".join(
                    f'<li><a href="#{escape(s)}">{escape(shots[0].title)}</a>'
                    f"{' ⚠' if any(x.problems for x in shots) else ''}</li>"
                    for s, shots in screens.items()
                ),
                sections="".join(sections),
            ),
            encoding="utf-8",
        )
        return index


def _section(screen: str, shots: list[Shot]) -> str:
    figures = []
    for shot in shots:
        found = (
            "<ul class=problems>"
            + "".join(f"<li>{escape(p)}</li>" for p in shot.problems)
            + "</ul>"
            if shot.problems
            else "<p class=ok>no overflow, no serious axe-core violation</p>"
        )
        figures.append(
            f'<figure class="w{shot.width}"><a href="{escape(shot.file)}">'
            f'<img src="{escape(shot.file)}" loading="lazy" '
            f'alt="{escape(shot.title)}, {shot.lang}, {shot.width} px"></a>'
            f"<figcaption><b>{shot.lang.upper()} · {shot.width} px</b>{found}</figcaption>"
            "</figure>"
        )
    return (
        f'<section id="{escape(screen)}"><h2>{escape(shots[0].title)} '
        f"<small>{escape(screen)}</small></h2><div class=row>{''.join(figures)}</div></section>"
    )


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Vigie — visual tour</title>
<style>
body {{ font: 15px/1.4 system-ui, sans-serif; margin: 1rem 2rem; color: #1b1f24; }}
.row {{ display: flex; gap: 1rem; align-items: flex-start; overflow-x: auto; }}
figure {{ margin: 0; border: 1px solid #ccd; padding: .5rem; background: #f7f8fa; }}
figure.w1440 img {{ width: 480px; }} figure.w360 img {{ width: 180px; }}
figure.w720 img {{ width: 240px; }}
figcaption {{ max-width: 480px; font-size: 13px; }}
.problems {{ color: #a4161a; padding-left: 1rem; }} .ok {{ color: #2b7a0b; margin: 0; }}
nav ol {{ columns: 3; }} h2 small {{ color: #667; font-weight: normal; }}
</style></head><body>
<h1>Vigie — visual tour</h1>
<p>{count} screenshots; {problems} problems found (horizontal overflow, axe-core serious or
critical violations, console errors, broken assets). Each image links to the full page.</p>
<nav><ol>{toc}</ol></nav>
{sections}
</body></html>
"""
