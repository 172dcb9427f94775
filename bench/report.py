"""RESULTS.md from one run's measurements (every figure below comes from the run)."""

from __future__ import annotations

import math
from typing import Dict, List, Optional, Tuple

import yaml

from bench import growth, stock
from bench.common import ROOT
from bot import matching

PROFILE_NOTES = ROOT / "bench" / "PROFILE.md"
TARGETS = {"right": 0.97, "wrong": 0.005, "oos": 0.97, "p50_ratio": 1.3, "train_s": 120, "first_s": 30, "rasa_mb": 1500}
# speed targets (conversation length, FAQ size, throughput, start, memory)
SPEED = {
    "throughput_ratio": 0.8,
    "first_s": 15,
    "rasa_mb": 1200,
    "length_ratio": 1.5,
    "size_train_s": 300,
    "size_p50_ratio": 1.2,
    "clicks": 6,
}
SYSTEMS = ("tfidf", "stock", "ours")


def _quality_table(scores) -> List[str]:
    """The right / wrong / asked back / out-of-scope table, one row per system that was scored."""
    lines = [
        "| system | right | wrong | asked back / no answer | asked back, its answer the first suggestion "
        "| out of scope without FAQ answer |",
        "|---|---|---|---|---|---|",
    ]
    for key in SYSTEMS:
        score = scores.get(key)
        if score:
            f = score.figures()
            lines.append(
                f"| {score.system} | {_pct(f['right'])} | {_pct(f['wrong'])} | {_pct(f['asked_back'])} | "
                f"{_pct(f['offered_first'])} | {_pct(f['out_of_scope_handled'])} |"
            )
    return lines


def _pct(value: float) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value * 100:.1f} %"


def _ms(seconds_or_ms: float, already_ms: bool = True) -> str:
    value = seconds_or_ms if already_ms else seconds_or_ms * 1000
    return "n/a" if value is None or math.isnan(value) else f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _mb(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.0f} MB"


def _s(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.1f} s"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ⏎ ")


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _by_level(run) -> Dict[int, Dict[str, object]]:
    levels: Dict[int, Dict[str, object]] = {}
    for result in run.load:
        levels.setdefault(result.concurrency, {})[result.system] = result
    return levels


def _pipeline() -> str:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    parts = [f"{c['name']} {c['epochs']} epochs" for c in config.get("pipeline") or [] if "epochs" in c]
    names = [c["name"] for c in config.get("pipeline") or []]
    return f"{' → '.join(names)}" + (f" ({', '.join(parts)})" if parts else "")


def _cpu(result) -> str:
    return ", ".join(f"{role} {ms:.1f} ms" for role, ms in result.cpu_ms_per_message.items())


def _part_ms(run, role: str, *needles: str) -> List[Tuple[str, float]]:
    prof = run.profiles.get(role)
    if not prof or prof.error or not prof.messages:
        return []
    return [
        (name, prof.ms_per_message(samples)) for name, samples in prof.parts.items() if any(n in name for n in needles)
    ]


# --- targets -------------------------------------------------------------------------------


def targets(run) -> List[Tuple[str, str, Optional[bool], str]]:
    """(target, measured, met, reason when not met)."""
    rows = []
    ours = run.quality.get("ours")
    if ours:
        f = ours.figures()
        asked, wrong, leaked = ours.of("asked back"), ours.of("wrong"), ours.of("leaked")
        misses = asked + wrong
        families: Dict[str, int] = {}
        for o in misses:
            family = o.question.expected.split("_")[0]
            families[family] = families.get(family, 0) + 1
        top = max(families.items(), key=lambda item: item[1]) if families else None
        family_note = (
            f" {top[1]} of the {len(misses)} misses concern the `{top[0]}_*` answers, which share much of "
            f"their vocabulary."
            if top and top[1] * 2 > len(misses)
            else ""
        )
        held = run.quality_heldout.get("ours")
        held_note = (
            f" On the tests' held-out set `tests/data/heldout.yml` the same bot has "
            f"{_pct(held.share('right'))} right and {_pct(held.share('wrong'))} wrong."
            if held
            else ""
        )
        m = matching.default_answer_model()
        rows.append(
            (
                "(c) right answers ≥ 97 %",
                _pct(f["right"]),
                f["right"] >= TARGETS["right"],
                f"{len(asked)} of {f['in_scope']} in-scope questions were asked back and {len(wrong)} answered "
                f"wrongly (listed under Confusions).{family_note} The bot answers only when its answer model is sure "
                f"enough that the best FAQ candidate is right (probability ≥ {m.threshold:.2f}, fitted by "
                f"cross-validation, section 2) and that candidate neither contradicts the products the question "
                f"names nor misses what it asks about (bot/matching.py); otherwise it asks back with "
                f"\"Vouliez-vous dire… ?\"; {sum(o.offered_first for o in asked)} of the {len(asked)} asked back "
                f"had their own answer as the first suggestion, one click away." + held_note,
            )
        )
        rows.append(
            (
                "(c) wrong answers ≤ 0.5 %",
                _pct(f["wrong"]),
                f["wrong"] <= TARGETS["wrong"],
                f"{len(wrong)} of {f['in_scope']} questions got a neighbouring answer with enough confidence and "
                f"margin to be shown (listed under Confusions): the wording is closer to that answer's "
                f"training examples than to the expected answer's.",
            )
        )
        rows.append(
            (
                "(c) out-of-scope questions without an FAQ answer ≥ 97 %",
                _pct(f["out_of_scope_handled"]),
                f["out_of_scope_handled"] >= TARGETS["oos"],
                f"{len(leaked)} of {f['out_of_scope']} out-of-scope questions got an FAQ answer (listed under "
                f"Confusions): they share words with an answer's training examples, and the out-of-scope "
                f"examples of data/nlu.yml do not cover their subject.",
            )
        )
    seeds = getattr(run, "quality_seeds", {}).get("stock") or []
    if ours and len(seeds) > 1:
        f = ours.figures()
        right = [x.share("right") for x in seeds]
        wrong = [x.share("wrong") for x in seeds]
        met = f["right"] > max(right) and f["wrong"] <= min(wrong)
        rows.append(
            (
                f"(c) more right answers than stock Rasa, no more wrong ones ({len(seeds)} seeds)",
                f"ours {_pct(f['right'])} / {_pct(f['wrong'])}; stock {_pct(sum(right) / len(right))} "
                f"({_pct(min(right))}–{_pct(max(right))}) / {_pct(sum(wrong) / len(wrong))} "
                f"({_pct(min(wrong))}–{_pct(max(wrong))})",
                met,
                "Compared with every seed of the stock server: ours must beat its best right rate and "
                "not exceed its lowest wrong rate.",
            )
        )
    levels = _by_level(run)
    explained = False
    for concurrency, pair in sorted(levels.items()):
        mine, theirs = pair.get("ours"), pair.get("stock")
        if not (mine and theirs):
            continue
        ratio = mine.percentile(50) / theirs.percentile(50)
        met = ratio <= TARGETS["p50_ratio"]
        cpu = (
            f" CPU per message at this level: ours {_cpu(mine)}; stock {_cpu(theirs)}."
            if mine.cpu_ms_per_message and theirs.cpu_ms_per_message
            else ""
        )
        if not explained:
            parts = _part_ms(run, "Rasa server", "spaCy", "tracker store", "action server", "jsonschema")
            detail = ", ".join(f"{name} {ms:.1f} ms" for name, ms in parts)
            reason = (
                "Every message of ours does work the stock server does not: spaCy's French pipeline in the NLU "
                "(tok2vec, morphologizer and lemmatizer for the lemmas; parser and NER left out, "
                "addons/patches.py), the SQL tracker store (conversations survive a restart: Rasa reads the "
                "session's events back and writes the new ones at every message; the stock server keeps them "
                "in memory) and one custom action per message (an HTTP round trip to the action server, which "
                "records answers and feedback in its database); button clicks skip the NLU in ours (a patch) "
                "while stock Rasa runs its whole NLU on them. Per message in our Rasa server under load "
                f"(Profiling): {detail or 'n/a'}." + cpu
            )
        else:
            reason = "Same causes." + cpu
        if concurrency > 1:
            reason += (
                " With several conversations at once the p50 is mostly queueing: one Rasa server process uses "
                "one core, so the ratio follows the CPU time per message."
            )
        explained = explained or not met
        rows.append(
            (
                f"p50 latency ours ≤ 1.3 × stock at {concurrency} conversation{'s' if concurrency > 1 else ''}",
                f"{ratio:.2f} × ({_ms(mine.percentile(50), False)} vs {_ms(theirs.percentile(50), False)})",
                met,
                reason,
            )
        )
    for concurrency, pair in sorted(levels.items()):
        mine, theirs = pair.get("ours"), pair.get("stock")
        if not (mine and theirs) or not theirs.throughput:
            continue
        ratio = mine.throughput / theirs.throughput
        rows.append(
            (
                f"throughput ours ≥ 0.8 × stock at {concurrency} conversation{'s' if concurrency > 1 else ''}",
                f"{ratio:.2f} × ({mine.throughput:.1f} vs {theirs.throughput:.1f} messages/s)",
                ratio >= SPEED["throughput_ratio"],
                "One Rasa server process uses one core: messages per second follow its CPU time per message "
                f"(ours {_cpu(mine)}; stock {_cpu(theirs)}); same causes as the p50.",
            )
        )
    at32 = levels.get(32, {}).get("ours")
    if at32:
        kinds: Dict[str, int] = {}
        for sample in at32.errors:
            kinds[sample.error] = kinds.get(sample.error, 0) + 1
        rows.append(
            (
                "zero errors at 32 concurrent conversations (ours)",
                f"{len(at32.errors)} errors / " f"{len(at32.samples)} messages",
                not at32.errors,
                "Errors by kind: " + ", ".join(f"{k}: {v}" for k, v in kinds.items()),
            )
        )
    trained = run.training.get("ours")
    stock_trained = run.training.get("stock")
    if trained:
        rows.append(
            (
                "training ≤ 120 s",
                _s(trained.seconds),
                trained.seconds <= TARGETS["train_s"],
                f"Our pipeline is {_pipeline()} on {run.machine.get('cores')} cores, trained from an empty "
                f"cache; Rasa's start and spaCy's parse of every training example dominate"
                + (f" (the stock project trains in {stock_trained.seconds:.0f} s here)." if stock_trained else "."),
            )
        )
    else:
        rows.append(("training ≤ 120 s", "not measured in quick mode", None, ""))
    first = run.first_answer_s.get("ours")
    if first is not None:
        stock_first = run.first_answer_s.get("stock")
        rows.append(
            (
                "first answer ≤ 30 s after start",
                _s(first),
                first <= TARGETS["first_s"],
                "From the start of ops.serve: Rasa starts while the action server does, imports TensorFlow and "
                "loads the model with spaCy's French model"
                + (
                    f"; the stock Rasa server, without spaCy or action server, needs {stock_first:.1f} s here."
                    if stock_first
                    else "."
                ),
            )
        )
    if first is not None:
        rows.append(
            (
                "first answer ≤ 15 s after start",
                _s(first),
                first <= SPEED["first_s"],
                "Same start as above: Rasa imports its modules (TensorFlow among them) and loads the model (the "
                "logistic regression and spaCy's French model); the figure varies with the machine's load.",
            )
        )
    rasa_peak = run.peaks_mb.get("ours: Rasa server")
    for limit, label in ((TARGETS["rasa_mb"], "1.5 GB"), (SPEED["rasa_mb"], "1.2 GB")):
        if rasa_peak is not None:
            rows.append(
                (
                    f"Rasa server peak memory ≤ {label}",
                    _mb(rasa_peak),
                    rasa_peak <= limit,
                    f"Rasa's modules (TensorFlow among them), the model and spaCy's French model stay loaded "
                    f"(stock server: {_mb(run.peaks_mb.get('stock: Rasa server'))}).",
                )
            )
    return rows + _growth_targets(run)


def _growth_targets(run) -> List[Tuple[str, str, Optional[bool], str]]:
    rows = []
    length = getattr(run, "length", {}).get("ours")
    if length and len(length.seconds) >= 20:
        f = length.figures()
        n = f["messages"]
        ratio = f["last_ms"] / f["p50_first_10_ms"]
        last_ten = f["p50_last_10_ms"] / f["p50_first_10_ms"]
        rows.append(
            (
                f"message {n} of one conversation ≤ 1.5 × the p50 of its first ten",
                f"{ratio:.2f} × ({f['last_ms']:.1f} ms vs {f['p50_first_10_ms']:.1f} ms; p50 of messages "
                f"{n - 9}–{n}: {last_ten:.2f} ×)",
                ratio <= SPEED["length_ratio"],
                "Rasa reads the whole session back from the tracker store and replays it at every message, and "
                "the rule policy looks at the session's states: the cost grows with the session's events "
                f"({f['events']} at the end). A session ends after domain.yml's `session_expiration_time` "
                "of inactivity.",
            )
        )
    sizes = [r for r in getattr(run, "faq_sizes", []) if r.training_s is not None]
    if sizes:
        largest = sizes[-1]
        rows.append(
            (
                f"training with {largest.answers} answers ≤ 5 min",
                _s(largest.training_s),
                largest.training_s <= SPEED["size_train_s"],
                f"{largest.examples} NLU examples ({growth.EXAMPLES_PER_ANSWER} per synthetic answer, as many "
                "as the seed's answers have): the logistic regression's iterations go through every example, "
                "for every intent (Footprint, FAQ size; bench/PROFILE.md).",
            )
        )
        base = sizes[0]
        for r in sizes[1:]:
            if r.p50_ms and base.p50_ms:
                ratio = r.p50_ms / base.p50_ms
                rows.append(
                    (
                        f"p50 with {r.answers} answers ≤ 1.2 × with {base.answers}",
                        f"{ratio:.2f} × ({r.p50_ms:.1f} ms vs {base.p50_ms:.1f} ms)",
                        ratio <= SPEED["size_p50_ratio"],
                        "The classifiers' output layers grow with the intents, and the action server's tree "
                        "and mentions with the answers; measured one conversation at a time.",
                    )
                )
    for r in getattr(run, "faq_sizes", [])[-1:]:
        rows.append(
            (
                f"every answer in ≤ 6 clicks with {r.answers} answers",
                f"deepest {r.tree['deepest_clicks']} clicks, {r.tree['reached']} of {r.tree['answers']} reached",
                r.tree["deepest_clicks"] <= SPEED["clicks"] and r.tree["reached"] == r.tree["answers"],
                "The tree asks at most the five facets of bot/data/faq.yml, then lists the remaining titles "
                f"(up to {r.tree['longest_list']} when a value is chosen at every question).",
            )
        )
    return rows


def _growth_section(run) -> List[str]:
    length = getattr(run, "length", {})
    sizes = getattr(run, "faq_sizes", [])
    if not (length or sizes):
        return []
    lines = ["## 5. Growth: conversation length, FAQ size", ""]
    if length:
        n = length["ours"].figures()["messages"]
        lines += (
            [
                f"One conversation of {n} messages on the running servers (bench/growth.py): a fixed cycle of ten "
                "kinds (greeting, button clicks, free questions, feedback), so that the first ten and the last ten "
                "have the same mix; the stock server is sent the same messages. Single messages are noisy: the p50 "
                "of the last ten is the steadier figure.",
                "",
            ]
            + growth.length_markdown(length)
            + [""]
        )
    if sizes:
        trained = any(r.training_s is not None for r in sizes)
        lines += (
            [
                "Knowledge bases of "
                + ", ".join(str(r.answers) for r in sizes)
                + " answers: the seed's answers, then synthetic ones with facet values drawn among the existing "
                f"facets and {growth.EXAMPLES_PER_ANSWER} NLU examples each, built in a temp copy of the project "
                "(bench/growth.py)"
                + (
                    "; each bot trained with `addons.cli train` from an empty cache (the same machine, after the "
                    "loads above), started by `ops.serve` and sent conversations one at a time (same mix as above)."
                    if trained
                    else "; quick mode: the tree's figures only, no training."
                ),
                "",
            ]
            + growth.size_markdown(sizes)
            + [""]
        )
    return lines


# --- sections --------------------------------------------------------------------------------


def _header(run) -> List[str]:
    s = run.settings
    m = run.machine
    lines = ["# Benchmarks: answer quality, speed, footprint", ""]
    if s.quick:
        lines += [
            "> **Quick mode** (`make bench-quick`, CI): a small sample of the evaluation set, short loads, the "
            "stock model trained with fewer epochs, no training timed. It checks that the benchmark runs; "
            "its figures are not the figures of record (`make bench`).",
            "",
        ]
    lines += [
        f"- Command: `{run.command}`, run on {run.started}, " f"{run.seconds / 60:.1f} min.",
        f"- Machine: {m.get('cores')} cores ({m.get('cpu', 'unknown CPU')}), {m.get('memory')} of memory; load "
        f"average at the start {m.get('load')} (other processes were running: compare figures within this run).",
        f"- Versions: Rasa {run.versions['rasa']}, Python {run.versions['python']}, spaCy {run.versions['spacy']}, "
        f"scikit-learn {run.versions['scikit-learn']}; commit {run.versions['commit']}.",
        "- Side by side: the three systems are measured in the same run, on the same questions and the same load.",
    ]
    lines += [f"- {note}" for note in run.notes]
    return lines + [""]


def _targets_section(run) -> List[str]:
    lines = ["## Targets", "", "| target | measured | met |", "|---|---|---|"]
    unmet = []
    for target, measured, met, reason in targets(run):
        mark = "—" if met is None else ("yes" if met else "**no**")
        lines.append(f"| {target} | {measured} | {mark} |")
        if met is False:
            unmet.append(f"- **{target}** ({measured}): {reason}")
    lines.append("")
    if unmet:
        lines += ["Targets not met, and why:", ""] + unmet + [""]
    else:
        lines += ["Every measured target is met.", ""]
    return lines


def _quality_section(run) -> List[str]:
    ours = run.quality["ours"]
    counts = ours.counts
    per_answer = "all" if run.settings.per_answer is None else f"the first {run.settings.per_answer}"
    lines = [
        "## 1. Answer quality",
        "",
        f"Evaluation set: `bench/data/evaluation.yml`, {per_answer} questions of each answer "
        f"({counts['in_scope']} in scope) and {counts['out_of_scope']} out-of-scope questions, vendor-style; written "
        "for the benchmark apart from the training examples (`data/nlu.yml`) and from the tests' held-out set, never "
        "used for training nor to choose a threshold. Each question opens a fresh conversation; "
        "its first reply either contains the expected answer's text verbatim (right), contains another answer's text "
        "(wrong), or neither (asked back: \"Vouliez-vous dire… ?\", the guided questions, a request to rephrase, "
        "no answer). An out-of-scope question is handled when the reply contains no FAQ answer. Of the asked back, "
        "those whose own answer is the first button under \"Vouliez-vous dire… ?\" are counted apart (share of the "
        "in-scope questions): the user is one click from the answer.",
        "",
    ]
    lines += _quality_table(run.quality)
    lines += _seeds_table(run)
    lines += [
        "",
        f"- (a) TF-IDF search, scored in-process: {run.tfidf}.",
        "- (b) Stock Rasa 3.6: the `config.yml` that `rasa init` writes (pipeline and policies commented out, so "
        "Rasa's defaults: WhitespaceTokenizer, RegexFeaturizer, LexicalSyntacticFeaturizer, CountVectorsFeaturizer, "
        "CountVectorsFeaturizer char_wb 1-4, DIETClassifier 100 epochs, EntitySynonymMapper, ResponseSelector, "
        "FallbackClassifier 0.3; MemoizationPolicy, RulePolicy, UnexpecTEDIntentPolicy, TEDPolicy), `language: fr`, "
        "trained on our `data/nlu.yml`; each `ask_<id>` intent answers with a response holding the answer's text, "
        "`nlu_fallback` asks to rephrase; no custom action; scored over REST"
        + (
            " (quick mode: the default pipeline and policies written out with fewer epochs)."
            if run.settings.quick
            else "."
        ),
        f"- (c) Our bot, started by `ops.serve`, scored over REST; model: {run.our_model}.",
        "",
    ]
    if run.quality_heldout:
        held = run.quality_heldout.get("ours")
        lines += [
            f"For reference, the same scoring on the tests' held-out set `tests/data/heldout.yml` "
            f"({held.counts['in_scope']} in scope, {held.counts['out_of_scope']} out of scope; no question is a "
            "near-duplicate of a training example, a test checks it):",
            "",
        ]
        lines += _quality_table(run.quality_heldout)
        lines.append("")
    lines += ["### Confusions of our bot", ""]
    wrong, asked, leaked = ours.of("wrong"), ours.of("asked back"), ours.of("leaked")
    if wrong:
        lines += ["Wrong answers:", "", "| question | expected | shown |", "|---|---|---|"]
        lines += [f"| {_cell(o.question.text)} | {o.question.expected} | {', '.join(o.shown)} |" for o in wrong]
        lines.append("")
    else:
        lines += ["Wrong answers: none.", ""]
    if asked:
        lines += [
            "Asked back instead of answering:",
            "",
            "| question | expected | first reply began with |",
            "|---|---|---|",
        ]
        lines += [f"| {_cell(o.question.text)} | {o.question.expected} | {_cell(_short(o.reply, 70))} |" for o in asked]
        lines.append("")
    else:
        lines += ["Asked back instead of answering: none.", ""]
    if leaked:
        lines += ["Out-of-scope questions that got an FAQ answer:", "", "| question | shown |", "|---|---|"]
        lines += [f"| {_cell(o.question.text)} | {', '.join(o.shown)} |" for o in leaked]
        lines.append("")
    else:
        lines += ["Out-of-scope questions that got an FAQ answer: none.", ""]
    return lines


def _speed_section(run) -> List[str]:
    lines = [
        "## 3. Speed over REST",
        "",
        "Each conversation (fresh sender id): a greeting; one or two button clicks, each the payload of a button of "
        "the previous reply; a free question (from the two evaluation sets); the feedback \"Oui\" (the \"Oui\" button's "
        "payload when the previous reply has one, else the word). N conversations run at once, each sending its next "
        "message when the previous reply has arrived. The stock server's replies have no buttons: it is sent, message "
        "for message, the conversations our bot was sent at the same concurrency (same greetings, same payload "
        "strings, which it parses as the `browse`, `ask_<id>`, `affirm` intents with their entities, same questions, "
        "same feedback). The stock server is Rasa 3.6 with the default config, no custom action, in-memory tracker "
        "store; ours runs its action server and SQLite databases (tracker store, feedback) in a temp folder. "
        "Each level runs in two rounds, ours then stock each time, so that a change in the machine's load falls "
        "on both. A warm-up of a few conversations precedes the measures; latency is the time to the full REST reply. "
        "An error is a failed request (connection, 60 s timeout, HTTP status other than 200), an empty reply, or our "
        "channel's \"service momentanément indisponible\" reply (sent when no reply comes within its timeout). "
        "CPU per message: user + system CPU time each server process used during the level, divided by the "
        "messages sent.",
        "",
        "| concurrent conversations | system | messages | errors | p50 | p95 | p99 | messages/s | CPU per message |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    levels = _by_level(run)
    for concurrency, pair in sorted(levels.items()):
        for key in ("ours", "stock"):
            r = pair.get(key)
            if r:
                f = r.figures()
                name = "(c) ours" if key == "ours" else "(b) stock Rasa"
                cpu = ", ".join(f"{role} {ms:.1f} ms" for role, ms in r.cpu_ms_per_message.items()) or "n/a"
                lines.append(
                    f"| {concurrency} | {name} | {f['messages']} | {f['errors']} | {_ms(f['p50_ms'])} | "
                    f"{_ms(f['p95_ms'])} | {_ms(f['p99_ms'])} | {f['msg_per_s']:.1f} | {cpu} |"
                )
    lines += [
        "",
        "p50 by kind of message (ours / stock):",
        "",
        "| concurrent conversations | greeting | button click | free question | feedback |",
        "|---|---|---|---|---|",
    ]
    for concurrency, pair in sorted(levels.items()):
        mine, theirs = pair.get("ours"), pair.get("stock")
        if mine and theirs:
            cells = [
                f"{_ms(mine.percentile(50, k), False)} / {_ms(theirs.percentile(50, k), False)}"
                for k in ("greet", "click", "question", "feedback")
            ]
            lines.append(f"| {concurrency} | " + " | ".join(cells) + " |")
    return lines + [""]


def _footprint_section(run) -> List[str]:
    ours, theirs = run.training.get("ours"), run.training.get("stock")
    quick_note = "not measured in quick mode"
    lines = [
        "## 4. Footprint",
        "",
        "| | (c) our bot | (b) stock Rasa |",
        "|---|---|---|",
        f"| training time (`rasa train`, empty cache) | {_s(ours.seconds) if ours else quick_note} | "
        f"{_s(theirs.seconds) if theirs else quick_note} |",
        f"| training peak memory | {_mb(ours.peak_rss_mb) if ours else quick_note} | "
        f"{_mb(theirs.peak_rss_mb) if theirs else quick_note} |",
        f"| start to first answer | {_s(run.first_answer_s.get('ours'))} | {_s(run.first_answer_s.get('stock'))} |",
        f"| Rasa server peak memory | {_mb(run.peaks_mb.get('ours: Rasa server'))} | "
        f"{_mb(run.peaks_mb.get('stock: Rasa server'))} |",
        f"| action server peak memory | {_mb(run.peaks_mb.get('ours: action server'))} | none |",
        f"| web page server peak memory | {_mb(run.peaks_mb.get('ours: web page server'))} | none |",
        "",
        "Peak memory is the peak resident set (VmHWM) of each process at the end of the run (after the quality "
        "questions, the loads and the profiling); training memory is `rasa train`'s maximum resident set. The start "
        "to first answer runs from the launch of the process (`ops.serve` for ours, `rasa run` for stock) "
        "to the first non-empty REST reply to \"Bonjour\"; the two servers start one after the other.",
        "",
    ]
    return lines


def _profile_section(run, notes: bool = True) -> List[str]:
    lines = [
        "## Profiling: where a reply's time goes",
        "",
        f"py-spy sampled our Rasa server and action server ({run.settings.profile_seconds} s, 8 conversations at "
        "a time, same mix) in this run. Idle samples are left out; ms per message = busy samples / sampling rate / "
        "messages sent during the sampling.",
        "",
    ]
    for role, prof in run.profiles.items():
        if prof.error:
            lines += [f"{role}: py-spy failed ({prof.error}).", ""]
            continue
        lines += [
            f"**{role}** ({prof.messages} messages, {prof.busy_samples} busy samples)",
            "",
            "| part | share of busy time | ms per message |",
            "|---|---|---|",
        ]
        for name, samples in prof.parts.items():
            lines.append(f"| {name} | {samples / prof.busy_samples * 100:.1f} % | {prof.ms_per_message(samples):.1f} |")
        if prof.own_frames:
            lines += [
                "",
                "Our own functions (inclusive): "
                + "; ".join(
                    f"`{frame}` {samples / prof.busy_samples * 100:.1f} %" for frame, samples in prof.own_frames
                ),
            ]
        lines.append("")
    if notes and PROFILE_NOTES.exists():
        text = PROFILE_NOTES.read_text(encoding="utf-8").strip().splitlines()
        if text and text[0].startswith("# "):
            text = text[1:]
        text = ["#### " + line[3:] if line.startswith("## ") else line for line in text]
        lines += (
            [
                "### What was found and changed (before / after)",
                "",
                "From `bench/PROFILE.md` (an earlier investigation with this harness, dated there):",
                "",
            ]
            + text
            + [""]
        )
    return lines


def _seeds_table(run) -> List[str]:
    seeds = getattr(run, "quality_seeds", {}).get("stock") or []
    if len(seeds) < 2:
        return []
    lines = [
        "",
        f"Stock Rasa trains differently with each seed: {len(seeds)} seeds on the same questions.",
        "",
        "| stock Rasa | right | wrong | asked back / no answer | out of scope without FAQ answer |",
        "|---|---|---|---|---|",
    ]
    for seed, score in zip(stock.SEEDS, seeds):
        f = score.figures()
        lines.append(
            f"| seed {seed} | {_pct(f['right'])} | {_pct(f['wrong'])} | {_pct(f['asked_back'])} | "
            f"{_pct(f['out_of_scope_handled'])} |"
        )
    keys = ("right", "wrong", "asked_back", "out_of_scope_handled")
    values = {k: [x.figures()[k] for x in seeds] for k in keys}
    lines.append(
        "| mean (min–max) | "
        + " | ".join(f"{_pct(sum(v) / len(v))} ({_pct(min(v))}–{_pct(max(v))})" for v in values.values())
        + " |"
    )
    return lines


def _crossval_section(run) -> List[str]:
    cv = getattr(run, "crossval", None)
    if not cv:
        return ["## 2. Cross-validation on the training data", "", "Not run in quick mode (`make bench` runs it).", ""]
    m = matching.default_answer_model()
    lines = [
        "## 2. Cross-validation on the training data",
        "",
        f"`python -m bench.crossval`: {cv['folds']}-fold cross-validation on `data/nlu.yml` alone ({cv['examples']} "
        f"examples, stratified by intent; data {cv['data_sha256']}). Each variant is trained on four fifths and ranks "
        "the fifth left out; the bot's decision (`bot/matching.py`: answer model, facet and aspect guards) is "
        "replayed on those rankings. In-scope: examples of the FAQ intents (right / wrong / asked back); out of "
        "scope: every other intent (handled = no FAQ answer). An ensemble combines two variants' rankings on the "
        "same folds. The answer model (`bot.matching.AnswerModel`: a logistic regression of \"the best FAQ "
        f"candidate is right\" on {', '.join(matching.SIGNALS)}) is fitted here, never on an evaluation set; its "
        "threshold gives the most right answers with at most 0.5 % wrong and at least 97 % of out-of-scope "
        "examples handled, each fold decided by a model fitted on the other folds (held out). Unseen examples: the "
        f"{cv.get('unseen_examples', '?')} held-out examples that no example of their training folds nearly repeats "
        "(folded texts, difflib ratio ≥ 0.8, as the evaluation sets are checked): what a new wording gets.",
        "",
    ]
    from bench.crossval import variants as crossval_variants

    skipped = [name for name in crossval_variants() if name not in cv["variants"]]
    if skipped:
        lines += [
            f"Not cross-validated in this run (not re-run on this data, for the run's time): {', '.join(skipped)}; "
            "their last figures are in this file's history.",
            "",
        ]
    fitted_on = (matching.answer_model_record().get("fitted_on") or {}).get("data_sha256")
    if fitted_on != cv["data_sha256"]:
        lines += [
            f"**The bot's answer model was fitted on other data ({fitted_on}) than today's ({cv['data_sha256']}):** "
            "`python -m bench.crossval --variants ours --write` re-fits it.",
            "",
        ]
    lines += [
        f"With the bot's answer model (bot/data/answer_model.json, answer at probability ≥ {m.threshold:.2f}), and "
        "with each variant's own answer model, held out:",
        "",
        "| variant | intent accuracy | training per fold | right | wrong | asked back | out of scope handled | "
        "same without the guards: right / wrong / handled | its own answer model: threshold, right / wrong / "
        "handled | same on unseen examples only |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, v in cv["variants"].items():
        f, g, c = v["at_bot_model"], v["at_bot_model_without_guards"], v["fitted"]
        own = (
            f"≥ {c['threshold']:.2f}: {_pct(c['right'])} / {_pct(c['wrong'])} / {_pct(c['out_of_scope_handled'])}"
            if c
            else "none admissible"
        )
        u = (c or {}).get("unseen") or {}
        unseen = f"{_pct(u['right'])} / {_pct(u['wrong'])} / {_pct(u['out_of_scope_handled'])}" if u else "-"
        lines.append(
            f"| {name}: {v['description']} | {_pct(v['intent_accuracy'])} | {_s(v.get('train_seconds_per_fold'))} "
            f"| {_pct(f['right'])} | {_pct(f['wrong'])} | {_pct(f['asked_back'])} | {_pct(f['out_of_scope_handled'])} "
            f"| {_pct(g['right'])} / {_pct(g['wrong'])} / {_pct(g['out_of_scope_handled'])} | {own} | {unseen} |"
        )
    used = cv["variants"].get(cv.get("deployed", "ours"))
    if used and used.get("curve"):
        lines += [
            "",
            f"The curve of the deployed variant ({cv.get('deployed', 'ours')}), held out: right, wrong and asked "
            "back by the answer model's threshold.",
            "",
            "| probability ≥ | right | wrong | asked back | out of scope handled |",
            "|---|---|---|---|---|",
        ]
        for point in used["curve"]:
            if round(point["threshold"] * 100) % 5 == 0 or abs(point["threshold"] - m.threshold) < 1e-9:
                lines.append(
                    f"| {point['threshold']:.2f} | {_pct(point['right'])} | {_pct(point['wrong'])} | "
                    f"{_pct(point['asked_back'])} | {_pct(point['out_of_scope_handled'])} |"
                )
    return lines + [""]


def render(run) -> str:
    lines = (
        _header(run)
        + _targets_section(run)
        + _quality_section(run)
        + _crossval_section(run)
        + _speed_section(run)
        + _footprint_section(run)
        + _growth_section(run)
        + _profile_section(run)
    )
    return "\n".join(lines).rstrip() + "\n"


def as_json(run) -> dict:
    return {
        "mode": "quick" if run.settings.quick else "full",
        "started": run.started,
        "seconds": round(run.seconds, 1),
        "machine": run.machine,
        "versions": run.versions,
        "quality": {key: score.figures() for key, score in run.quality.items()},
        "quality_heldout": {key: score.figures() for key, score in run.quality_heldout.items()},
        "quality_seeds": {
            key: [s.figures() for s in scores] for key, scores in getattr(run, "quality_seeds", {}).items()
        },
        "crossval": {
            name: {k: v for k, v in variant.items() if k != "curve"}
            for name, variant in ((getattr(run, "crossval", None) or {}).get("variants") or {}).items()
        },
        "load": [r.figures() | {"system": r.system} for r in run.load],
        "training": {
            k: (None if v is None else {"seconds": v.seconds, "peak_rss_mb": v.peak_rss_mb})
            for k, v in run.training.items()
        },
        "first_answer_s": run.first_answer_s,
        "peaks_mb": run.peaks_mb,
        "profiles": {
            role: {"messages": p.messages, "busy_samples": p.busy_samples, "parts": p.parts, "error": p.error}
            for role, p in run.profiles.items()
        },
        "length": {key: r.figures() for key, r in getattr(run, "length", {}).items()},
        "faq_sizes": [vars(r) for r in getattr(run, "faq_sizes", [])],
        "targets": [{"target": t, "measured": m, "met": ok} for t, m, ok, _ in targets(run)],
    }
