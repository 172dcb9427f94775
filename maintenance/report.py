"""The maintainers' report: which answers help, which questions the FAQ does not answer yet.

    python -m maintenance.report [--days N] [--out reports] [--url URL] [--historique FILE]

Prints the tables in the terminal; with --out, also writes CSV files (";"-separated, UTF-8
with BOM: they open as columns in a French Excel) and a self-contained HTML page with charts.
Unanswered questions are grouped by similarity (maintenance/grouping.py), each group with a verdict
(near miss of an answer, new topic, noise); questions already settled by `make review`
(maintenance/decisions.py) are left out of the groups and of the to-do list.
"""

from __future__ import annotations

import argparse
import base64
import collections
import csv
import html
import io
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import sqlalchemy as sa

from bot import matching
from bot import store as store_module
from bot.knowledge import KnowledgeBase, default_kb
from bot.store import Store
from bot.vocabulary import Via
from maintenance import decisions as decisions_module
from maintenance import grouping

VIA_LABELS = {Via.GUIDE: "guide", Via.FREE_TEXT: "texte libre", Via.SUGGESTION: "suggestion"}
MIN_OPINIONS = 3  # below this many Oui/Non, a helpful % says little
LOW_HELPFUL_PCT = 50.0
NEXT_STEPS = 8
TITLE_WIDTH = 48


# --- figures ---------------------------------------------------------------------------


@dataclass
class AnswerStat:
    answer_id: str
    title: str
    shown: int = 0
    by_via: Dict[str, int] = field(default_factory=dict)
    yes: int = 0
    no: int = 0

    @property
    def opinions(self) -> int:
        return self.yes + self.no

    @property
    def helpful_pct(self) -> Optional[float]:
        return round(100.0 * self.yes / self.opinions, 1) if self.opinions else None


@dataclass
class UnansweredGroup:
    key: str  # the normalised question
    example: str  # its most frequent spelling
    count: int
    no_candidate: int  # "je ne sais pas" replies
    suggested: int  # "Vouliez-vous dire… ?" replies
    best_candidate: Optional[str]  # the answer most often ranked first
    mean_score: Optional[float]  # of that candidate, when ranked first
    last_seen: datetime


normalise = grouping.normalise


def answer_stats(store: Store, kb: KnowledgeBase, since: Optional[datetime] = None) -> List[AnswerStat]:
    """One line per FAQ answer (never shown ones too), plus answers since removed from the FAQ."""
    stats = {a.id: AnswerStat(a.id, a.title) for a in kb.answers}

    def stat(answer_id: str) -> AnswerStat:
        return stats.setdefault(answer_id, AnswerStat(answer_id, f"{answer_id} (retirée de la FAQ)"))

    shown, feedback = store_module.answers_shown, store_module.feedback
    with store.engine.connect() as connection:
        query = sa.select(shown.c.answer_id, shown.c.via, sa.func.count()).group_by(shown.c.answer_id, shown.c.via)
        for answer_id, via, count in connection.execute(_since(query, shown, since)):
            stat(answer_id).by_via[via] = count
            stat(answer_id).shown += count
        query = sa.select(feedback.c.answer_id, feedback.c.helpful, sa.func.count()).group_by(
            feedback.c.answer_id, feedback.c.helpful
        )
        for answer_id, helpful, count in connection.execute(_since(query, feedback, since)):
            if helpful:
                stat(answer_id).yes += count
            else:
                stat(answer_id).no += count
    return sorted(stats.values(), key=lambda s: (-s.shown, -s.opinions, s.title))


def unanswered_groups(store: Store, since: Optional[datetime] = None) -> List[UnansweredGroup]:
    """Questions not answered with confidence, grouped by normalised text, most frequent first."""
    table = store_module.unanswered
    rows: Dict[str, list] = collections.defaultdict(list)
    with store.engine.connect() as connection:
        query = sa.select(table.c.text, table.c.kind, table.c.candidates, table.c.created_at)
        for row in connection.execute(_since(query, table, since)):
            key = normalise(row.text)
            if key:
                rows[key].append(row)
    groups = []
    for key, items in rows.items():
        firsts = [tuple(r.candidates[0]) for r in items if r.candidates]
        best = collections.Counter(aid for aid, _ in firsts).most_common(1)
        best_id = best[0][0] if best else None
        scores = [score for aid, score in firsts if aid == best_id]
        groups.append(
            UnansweredGroup(
                key=key,
                example=collections.Counter(r.text for r in items).most_common(1)[0][0],
                count=len(items),
                no_candidate=sum(r.kind == matching.DecisionKind.NONE for r in items),
                suggested=sum(r.kind == matching.DecisionKind.SUGGEST for r in items),
                best_candidate=best_id,
                mean_score=round(sum(scores) / len(scores), 2) if scores else None,
                last_seen=max(r.created_at for r in items),
            )
        )
    return sorted(groups, key=lambda g: (-g.count, -g.last_seen.timestamp(), g.key))


def _since(query, table: sa.Table, since: Optional[datetime]):
    return query if since is None else query.where(table.c.created_at >= since)


def next_steps(
    stats: Sequence[AnswerStat], topics: Sequence[grouping.Group], kb: KnowledgeBase, limit: int = NEXT_STEPS
) -> List[str]:
    """What to add or fix next, from the groups of questions (largest first; noise is never a to-do)
    and the answers users find unhelpful."""
    steps: List[Tuple[int, str]] = []
    for group in topics:
        if group.verdict == grouping.NOISE:
            continue
        times = _times(group.size)
        if len(group.questions) > 1:
            times += f", {len(group.questions)} formulations"
        answer = kb.answer(group.answer_id) if group.answer_id else None
        if group.verdict == grouping.NEAR_MISS and answer:
            steps.append(
                (
                    group.size,
                    f"Apprendre « {_cut(group.example, 120)} » ({times}) comme formulation de "
                    f"« {_cut(answer.title, 90)} », si c'est bien la bonne réponse "
                    f"(make review, groupe {group.id}).",
                )
            )
        else:
            steps.append(
                (
                    group.size,
                    f"Ajouter une réponse à « {_cut(group.example, 120)} » ({times}, {group.reason}), "
                    f"si la question relève de la FAQ ; sinon la classer hors sujet "
                    f"(make review, groupe {group.id}).",
                )
            )
    for stat in stats:
        if stat.opinions >= MIN_OPINIONS and stat.helpful_pct is not None and stat.helpful_pct < LOW_HELPFUL_PCT:
            steps.append(
                (
                    stat.opinions,
                    f"Revoir la réponse « {_cut(stat.title, 90)} » : {stat.helpful_pct:g} % utile "
                    f"sur {stat.opinions} avis.",
                )
            )
    steps.sort(key=lambda item: -item[0])
    return [text for _, text in steps[:limit]]


def weekly_helpful(store: Store, since: Optional[datetime] = None) -> Dict[str, List[Tuple[date, int, int]]]:
    """Per answer: (Monday of the week, Oui, Non) for each week with an opinion, oldest first."""
    table = store_module.feedback
    counts: Dict[str, Dict[date, List[int]]] = collections.defaultdict(lambda: collections.defaultdict(lambda: [0, 0]))
    with store.engine.connect() as connection:
        query = sa.select(table.c.answer_id, table.c.helpful, table.c.created_at)
        for answer_id, helpful, at in connection.execute(_since(query, table, since)):
            monday = at.date() - timedelta(days=at.weekday())
            counts[answer_id][monday][0 if helpful else 1] += 1
    return {aid: [(week, yes, no) for week, (yes, no) in sorted(weeks.items())] for aid, weeks in counts.items()}


def group_rows(topics: Sequence[grouping.Group], kb: KnowledgeBase) -> List[list]:
    """One line per group, for the terminal, the CSV and the page."""
    rows = []
    for g in topics:
        closest = " ; ".join(f"{c.answer_id} (NLU {c.nlu:.2f}, texte {c.text:.2f})" for c in g.closest)
        rows.append(
            [
                g.id,
                g.label,
                g.size,
                len(g.questions),
                g.suggested,
                g.no_candidate,
                g.answer_id or "",
                g.reason,
                " | ".join(q for q, _ in g.questions[:EXAMPLES]),
                closest,
            ]
        )
    return rows


GROUP_HEADERS = [
    "groupe",
    "verdict",
    "fois",
    "formulations",
    "avec_suggestions",
    "sans_reponse",
    "reponse_proche",
    "motif",
    "exemples",
    "reponses_les_plus_proches",
]
EXAMPLES = 4


def _candidate(group: UnansweredGroup) -> Tuple[str, str]:
    """The closest answer and its score, when it was close enough to be suggested at all."""
    if group.best_candidate is None or (group.mean_score or 0.0) < matching.THRESHOLDS.suggest:
        return "-", "-"
    return group.best_candidate, f"{group.mean_score:.2f}"


def _times(count: int) -> str:
    return "1 fois" if count == 1 else f"{count} fois"


# --- terminal --------------------------------------------------------------------------


def _cut(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], text_columns: Sequence[int] = (0,)) -> str:
    """Plain-text table: text left-aligned, figures right-aligned."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row):
        return "  ".join(c.ljust(w) if i in text_columns else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))

    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths)] + [line(r) for r in cells[1:]])


def _pct(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:g} %"


def render_text(report: "Report", kb: KnowledgeBase, top: int) -> str:
    stats, groups, steps = report.stats, report.groups, report.steps
    shown = sum(s.shown for s in stats)
    yes, opinions = sum(s.yes for s in stats), sum(s.opinions for s in stats)
    topics = [g for g in report.topics if g.verdict != grouping.NOISE]
    noise = [g for g in report.topics if g.verdict == grouping.NOISE]
    parts = [
        f"Rapport de la FAQ des industriels ({report.period})",
        f"Réponses affichées : {shown} ; avis : {opinions}"
        + (f" ({_pct(round(100 * yes / opinions, 1))} utiles)" if opinions else "")
        + f" ; questions sans réponse sûre : {sum(g.count for g in groups)}",
        "",
        "Réponses",
        _table(
            ["Réponse", "Affichée", "guide", "texte", "sugg.", "Oui", "Non", "% utile"],
            [
                [
                    _cut(s.title, TITLE_WIDTH),
                    *_counts(s),
                    _pct(s.helpful_pct),
                ]
                for s in stats
            ],
        ),
        "",
        "Groupes de questions sans réponse sûre (questions semblables ensemble ; le bruit à part)",
    ]
    if topics:
        parts.append(
            _table(
                ["Groupe", "Verdict", "Fois", "Form.", "Réponse la plus proche", "Exemple"],
                [
                    [g.id, g.label, g.size, len(g.questions), _closest_label(g, kb), "« " + _cut(g.example, 60) + " »"]
                    for g in topics[:top]
                ],
                text_columns=(0, 1, 4, 5),
            )
        )
    else:
        parts.append("(aucun)")
    if noise:
        parts.append(
            f"Bruit (jamais à traiter) : {sum(g.size for g in noise)} question(s) en {len(noise)} groupe(s), "
            "par exemple " + ", ".join("« " + _cut(g.example, 30) + " »" for g in noise[:3])
        )
    if report.settled:
        parts.append(f"Déjà traitées par make review : {report.settled} question(s), laissées de côté.")
    if report.left_out:
        parts.append(
            f"Non groupées : {report.left_out} question(s) parmi les moins posées "
            f"(plus de {grouping.MAX_DISTINCT} questions différentes ; DAYS=N pour une période plus courte)."
        )
    parts += [
        "",
        f"Questions sans réponse sûre, une par ligne (les {top} plus fréquentes)",
        _table(
            ["Question", "Fois", "Sans rép.", "Sugg.", "Meilleure candidate", "Score"],
            [
                [_cut(g.example, TITLE_WIDTH), g.count, g.no_candidate, g.suggested, *_candidate(g)]
                for g in groups[:top]
            ],
            text_columns=(0, 4),
        )
        if groups
        else "(aucune)",
        "",
        "À ajouter ou revoir ensuite",
    ]
    parts += [f"{i}. {step}" for i, step in enumerate(steps, 1)] or ["(rien à signaler)"]
    return "\n".join(parts)


def _closest_label(group: grouping.Group, kb: KnowledgeBase) -> str:
    if group.verdict == grouping.NEAR_MISS and group.answer_id:
        c = next((c for c in group.closest if c.answer_id == group.answer_id), None)
        scores = f" (NLU {c.nlu:.2f}, texte {c.text:.2f})" if c else ""
        return group.answer_id + scores
    if group.closest:
        c = group.closest[0]
        return f"aucune ; la moins loin : {c.answer_id} ({c.score:.2f})"
    return "aucune"


# --- CSV -------------------------------------------------------------------------------


def _cell(value: object) -> object:
    """A user's text starting with = + - @ would run as a formula in a spreadsheet."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_csv(path: Path, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(headers)
        writer.writerows([[_cell(c) for c in row] for row in rows])


def _counts(s: AnswerStat) -> list:
    """Shown, by way (guide, free text, suggestion), Oui, Non: the columns every answers table has."""
    return [s.shown, *(s.by_via.get(via, 0) for via in (Via.GUIDE, Via.FREE_TEXT, Via.SUGGESTION)), s.yes, s.no]


def answers_rows(stats: Sequence[AnswerStat]) -> List[list]:
    return [
        [
            s.answer_id,
            s.title,
            *_counts(s),
            "" if s.helpful_pct is None else s.helpful_pct,
        ]
        for s in stats
    ]


ANSWERS_HEADERS = [
    "answer_id",
    "titre",
    "affichages",
    "via_guide",
    "via_texte_libre",
    "via_suggestion",
    "oui",
    "non",
    "pct_utile",
]
UNANSWERED_HEADERS = [
    "question_normalisee",
    "exemple",
    "nombre",
    "sans_reponse",
    "avec_suggestions",
    "meilleure_candidate",
    "score_moyen",
    "derniere_fois_utc",
]


def unanswered_rows(groups: Sequence[UnansweredGroup]) -> List[list]:
    return [
        [
            g.key,
            g.example,
            g.count,
            g.no_candidate,
            g.suggested,
            g.best_candidate or "",
            "" if g.mean_score is None else g.mean_score,
            g.last_seen.isoformat(timespec="seconds"),
        ]
        for g in groups
    ]


# --- HTML ------------------------------------------------------------------------------


def _chart(
    labels: Sequence[str], series: Sequence[Tuple[str, Sequence[float], str]], xlabel: str, xmax: Optional[float] = None
) -> str:
    """A horizontal (stacked) bar chart as a base64 PNG: nothing a user typed is parsed by the page."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    safe = [_cut(label, 60).replace("$", r"\$") for label in labels]  # "$" would start math text
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(labels) + 1.2))
    left = [0.0] * len(labels)
    for name, values, color in series:
        ax.barh(range(len(labels)), values, left=left, label=name, color=color)
        left = [a + b for a, b in zip(left, values)]
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(safe, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_xlim(0, xmax or max(max(left, default=0), 1) * 1.08)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for y, total in enumerate(left):
        ax.text(total, y, f" {total:g}", va="center", fontsize=8)
    if len(series) > 1:
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(series), fontsize=8, frameon=False)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return '<img alt="graphique" src="data:image/png;base64,' + base64.b64encode(buffer.getvalue()).decode() + '">'


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape('' if c is None else str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: "Report", kb: KnowledgeBase, top: int) -> str:
    stats, groups, steps = report.stats, report.groups, report.steps
    used = [s for s in stats if s.shown or s.opinions]
    sections = [f"<h1>FAQ des industriels : retours et questions sans réponse</h1><p>{html.escape(report.period)}</p>"]
    sections.append(
        "<h2>À ajouter ou revoir ensuite</h2>"
        + (
            "<ol>" + "".join(f"<li>{html.escape(s)}</li>" for s in steps) + "</ol>"
            if steps
            else "<p>Rien à signaler.</p>"
        )
    )
    sections.append("<h2>Réponses affichées et avis</h2>")
    if used:
        sections.append(
            _chart(
                [s.title for s in used],
                [
                    ("utile", [s.yes for s in used], "#2e7d32"),
                    ("pas utile", [s.no for s in used], "#c62828"),
                    ("sans avis", [max(s.shown - s.opinions, 0) for s in used], "#9e9e9e"),
                ],
                "affichages",
            )
        )
        rated = [s for s in used if s.opinions]
        if rated:
            sections.append("<h3>% utile (réponses ayant reçu un avis)</h3>")
            sections.append(
                _chart(
                    [f"{s.title} ({s.opinions} avis)" for s in rated],
                    [("% utile", [s.helpful_pct for s in rated], "#1565c0")],
                    "% utile",
                    xmax=100,
                )
            )
    else:
        sections.append("<p>Aucune réponse affichée sur la période.</p>")
    sections.append(
        _html_table(
            ["Réponse", "Affichée", "guide", "texte libre", "suggestion", "Oui", "Non", "% utile"],
            [
                [
                    s.title,
                    *_counts(s),
                    _pct(s.helpful_pct),
                ]
                for s in stats
            ],
        )
    )
    sections.append("<h2>« Utile » par semaine</h2>")
    sections.append(_weekly_html(report.weekly, kb))
    sections.append("<h2>Groupes de questions sans réponse sûre</h2>")
    sections.append(
        "<p>Questions semblables regroupées. <b>formulation proche</b> : la réponse existe, ajouter ces "
        "questions à ses exemples (<code>make review</code>) ; <b>nouveau sujet</b> : candidate à une "
        "nouvelle entrée de la FAQ, ou hors sujet ; <b>bruit</b> : charabia, salutations, bavardage, "
        "jamais à traiter."
        + (
            f" {report.settled} question(s) déjà traitée(s) par make review sont " "laissées de côté."
            if report.settled
            else ""
        )
        + "</p>"
    )
    if report.topics:
        sections.append(_groups_html(report.topics[:top], kb))
    else:
        sections.append("<p>Aucun groupe sur la période.</p>")
    sections.append(f"<h2>Questions sans réponse sûre, une par ligne (les {top} plus fréquentes)</h2>")
    if groups:
        shown = groups[:top]
        sections.append(
            _chart([g.example for g in shown], [("fois", [g.count for g in shown], "#ef6c00")], "nombre de fois")
        )
        sections.append(
            _html_table(
                [
                    "Question (exemple)",
                    "Fois",
                    "Sans réponse",
                    "Avec suggestions",
                    "Meilleure candidate",
                    "Score moyen",
                ],
                [[g.example, g.count, g.no_candidate, g.suggested, *_candidate(g)] for g in shown],
            )
        )
    else:
        sections.append("<p>Aucune sur la période.</p>")
    sections.append("<h2>Historique des revues (make review)</h2>")
    sections.append(_history_html(report.history, kb))
    sections.append(
        "<p><small>Les questions sont celles que les utilisateurs ont tapées : elles peuvent contenir "
        "des données personnelles. Ne diffusez pas ce rapport au-delà des responsables de la FAQ.</small></p>"
    )
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;font-size:14px}"
        "th{background:#f0f0f0}td{white-space:nowrap}td:first-child{white-space:normal}td:not(:first-child){text-align:right}img{max-width:100%}"
        "table.wide td{white-space:normal;text-align:left}.v-near_miss{color:#1565c0}.v-new_topic{color:#ef6c00}"
        ".v-noise{color:#757575}svg text{font-size:10px;font-family:sans-serif}"
    )
    return (
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\">"
        "<title>Rapport FAQ des industriels</title>"
        f"<style>{style}</style></head><body>" + "".join(sections) + "</body></html>"
    )


def _groups_html(topics: Sequence[grouping.Group], kb: KnowledgeBase) -> str:
    rows = []
    for g in topics:
        examples = "<br>".join(
            html.escape(f"« {_cut(q, 150)} »" + (f" ×{n}" if n > 1 else "")) for q, n in g.questions[:EXAMPLES]
        )
        if len(g.questions) > EXAMPLES:
            examples += f"<br>… et {len(g.questions) - EXAMPLES} autre(s)"
        closest = (
            "—"
            if g.verdict == grouping.NOISE
            else "<br>".join(
                html.escape(f"{_title(kb, c.answer_id)} — NLU {c.nlu:.2f}, texte {c.text:.2f}") for c in g.closest
            )
        )
        verdict = html.escape(g.label) + (f"<br><small>{html.escape(g.reason)}</small>" if g.reason else "")
        rows.append(
            f"<tr><td>{html.escape(g.id)}</td><td class=\"v-{g.verdict}\">{verdict}</td><td>{g.size}</td>"
            f"<td>{examples}</td><td>{closest}</td></tr>"
        )
    return (
        "<table class=\"wide\"><thead><tr><th>Groupe</th><th>Verdict</th><th>Fois</th><th>Exemples</th>"
        "<th>Réponses les plus proches (score moyen du NLU, proximité du texte)</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _title(kb: KnowledgeBase, answer_id: str) -> str:
    answer = kb.answer(answer_id)
    return _cut(answer.title, 80) if answer else answer_id


def _history_html(history: Sequence[decisions_module.Decision], kb: KnowledgeBase) -> str:
    if not history:
        return "<p>Aucune décision enregistrée.</p>"
    rows = []
    for d in sorted(history, key=lambda d: d.date, reverse=True):
        if d.decision == decisions_module.IGNORE:
            what = "ignoré (rien ajouté)"
        elif d.decision == decisions_module.OUT_OF_SCOPE:
            what = "hors sujet (out_of_scope)"
        else:
            answer = kb.answer_for_intent(d.decision)
            what = f"« {_cut(answer.title, 80)} »" if answer else d.decision
        added = "<br>".join(html.escape(f"« {_cut(q, 150)} »") for q in d.added) or "—"
        rows.append(
            f"<tr><td>{d.date.strftime('%d/%m/%Y %H:%M')}</td><td>{html.escape(d.group)}</td>"
            f"<td>{html.escape(what)}</td><td>{len(d.questions)}</td><td>{added}</td></tr>"
        )
    return (
        "<table class=\"wide\"><thead><tr><th>Date (UTC)</th><th>Groupe</th><th>Décision</th>"
        "<th>Questions réglées</th><th>Exemples ajoutés à data/nlu.yml</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


WEEKS_SHOWN = 12


def _weekly_html(weekly: Dict[str, List[Tuple[date, int, int]]], kb: KnowledgeBase) -> str:
    """One small bar chart per answer (inline SVG): % utile of each week, height; opinions, label."""
    if not weekly:
        return "<p>Aucun avis sur la période.</p>"
    last = max(week for rows in weekly.values() for week, _, _ in rows)
    weeks = [last - timedelta(weeks=i) for i in range(WEEKS_SHOWN - 1, -1, -1)]
    bar, gap, height = 26, 6, 60
    width = len(weeks) * (bar + gap)
    axis = "".join(
        f'<text x="{i * (bar + gap) + bar / 2:.0f}" y="{height + 12}" text-anchor="middle">'
        f'{w.strftime("%d/%m")}</text>'
        for i, w in enumerate(weeks)
        if i % 2 == len(weeks) % 2
    )
    rows = []
    for answer_id in sorted(weekly, key=lambda a: -sum(y + n for _, y, n in weekly[a])):
        by_week = {w: (y, n) for w, y, n in weekly[answer_id]}
        shapes = [
            f'<line x1="0" y1="{height}" x2="{width}" y2="{height}" stroke="#999"/>',
            f'<line x1="0" y1="{height / 2}" x2="{width}" y2="{height / 2}" stroke="#ddd"/>',
        ]
        for i, week in enumerate(weeks):
            yes, no = by_week.get(week, (0, 0))
            if not yes + no:
                continue
            pct = 100.0 * yes / (yes + no)
            h = max(height * pct / 100.0, 1.0)
            color = "#2e7d32" if pct >= LOW_HELPFUL_PCT else "#c62828"
            x = i * (bar + gap)
            shapes.append(
                f'<rect x="{x}" y="{height - h:.1f}" width="{bar}" height="{h:.1f}" fill="{color}">'
                f'<title>semaine du {week.strftime("%d/%m/%Y")} : {yes} oui, {no} non ({pct:.0f} % utile)'
                f'</title></rect>'
            )
            shapes.append(
                f'<text x="{x + bar / 2:.0f}" y="{max(height - h - 2, 9):.0f}" text-anchor="middle">'
                f'{yes + no}</text>'
            )
        svg = (
            f'<svg role="img" aria-label="% utile par semaine" width="{width}" height="{height + 16}" '
            f'viewBox="0 0 {width} {height + 16}">' + "".join(shapes) + axis + "</svg>"
        )
        total_yes = sum(y for _, y, _ in weekly[answer_id])
        total = sum(y + n for _, y, n in weekly[answer_id])
        rows.append(
            f"<tr><td>{html.escape(_title(kb, answer_id))}</td><td>{100.0 * total_yes / total:.0f} % "
            f"({total} avis)</td><td>{svg}</td></tr>"
        )
    return (
        "<p>Hauteur : % « utile » de la semaine (vert au-dessus de 50 %, rouge en dessous) ; nombre : avis de "
        f"la semaine ; les {WEEKS_SHOWN} dernières semaines ayant un avis, semaine du lundi indiqué.</p>"
        "<table class=\"wide\"><thead><tr><th>Réponse</th><th>Sur la période</th><th>Par semaine</th></tr></thead>"
        "<tbody>" + "".join(rows) + "</tbody></table>"
    )


# --- command line ----------------------------------------------------------------------


@dataclass
class Report:
    stats: List[AnswerStat]
    groups: List[UnansweredGroup]  # one per normalised question (detail table, CSV)
    steps: List[str]
    period: str
    topics: List[grouping.Group] = field(default_factory=list)  # groups of similar questions, with verdicts
    settled: int = 0  # unanswered rows already settled by `make review`
    history: List[decisions_module.Decision] = field(default_factory=list)
    weekly: Dict[str, List[Tuple[date, int, int]]] = field(default_factory=dict)
    left_out: int = 0  # rows of the least asked questions, beyond what one grouping holds


def build(
    store: Store,
    kb: KnowledgeBase,
    days: Optional[float] = None,
    now: Optional[datetime] = None,
    history_file: Path = decisions_module.HISTORY_FILE,
    grouper: Optional[grouping.Grouper] = None,
) -> Report:
    now = now or store_module.utcnow()
    since = now - timedelta(days=days) if days else None
    stats, groups = answer_stats(store, kb, since), unanswered_groups(store, since)
    history = decisions_module.load(history_file)
    questions = [grouping.Question.of(row) for row in store.rows(store_module.unanswered, since)]
    pending = decisions_module.undecided(questions, history)
    grouper = grouper or (grouping.default_grouper(kb) if pending else None)
    topics = grouper.group(pending) if pending else []
    period = (
        f"{days:g} derniers jours" if days else "toute la période conservée"
    ) + f", au {now.strftime('%d/%m/%Y %H:%M')} UTC"
    return Report(
        stats,
        groups,
        next_steps(stats, topics, kb),
        period,
        topics,
        len(questions) - len(pending),
        history,
        weekly_helpful(store, since),
        grouper.left_out if grouper else 0,
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="database URL (default: FAQ_STORE_URL, else sqlite:///var/faq.db)")
    parser.add_argument("--days", type=float, help="only the last N days")
    parser.add_argument("--top", type=int, default=20, help="how many unanswered questions to list")
    parser.add_argument(
        "--out", type=Path, help="folder for reponses.csv, questions_sans_reponse.csv, " "groupes.csv, rapport.html"
    )
    parser.add_argument(
        "--historique",
        type=Path,
        default=decisions_module.HISTORY_FILE,
        help="decisions of make review (default: bot/data/review_history.yml)",
    )
    args = parser.parse_args(argv)

    store = Store(args.url)
    try:
        kb = default_kb()
        report = build(store, kb, args.days, history_file=args.historique)
    finally:
        store.dispose()
    print(render_text(report, kb, args.top))
    if args.out:
        files = [
            args.out / "reponses.csv",
            args.out / "questions_sans_reponse.csv",
            args.out / "groupes.csv",
            args.out / "rapport.html",
        ]
        write_csv(files[0], ANSWERS_HEADERS, answers_rows(report.stats))
        write_csv(files[1], UNANSWERED_HEADERS, unanswered_rows(report.groups))
        write_csv(files[2], GROUP_HEADERS, group_rows(report.topics, kb))
        files[3].write_text(render_html(report, kb, args.top), encoding="utf-8")
        print("\nExports : " + ", ".join(str(f) for f in files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
