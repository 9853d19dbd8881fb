"""CLI commands of the tag stage: ``tag``, ``train``, ``evaluate``, ``agree``.

Each command parses options, calls one function of ``policylens.nlp`` and
formats the result; the library does the work.
"""

from __future__ import annotations

import gc
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table

from policylens.atomic import write_text_atomic
from policylens.commands._common import (
    EXIT_USAGE,
    LABEL_STYLE,
    ROLE_MODEL_HELP,
    RoleMode,
    Scope,
    TagFormat,
    err,
    fail,
    handle_errors,
    out,
)

# plain dataclasses; spaCy is imported only when a command runs
from policylens.nlp.types import Cue, TaggedDocument

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language

log = logging.getLogger(__name__)

LABEL_SHORT = {"centralized": "central", "sector_specific": "sector", "neutral": "neutral"}


def _cue_text(cue: Cue) -> str:
    mark = "¬" if cue.negated else ""
    return f"[{LABEL_STYLE[cue.approach]}]{escape(mark + cue.text)}[/]"


@handle_errors
def tag_command(
    path: Path | None = typer.Argument(None, help="A PDF, .txt, .md or .html file, or - for stdin."),
    text: str | None = typer.Option(None, "--text", "-t", help="Tag this literal text instead of a file."),
    fmt: TagFormat = typer.Option(TagFormat.table, "--format", "-f", help="Output: a coloured table, or "
                                  "jsonl (one JSON object per sentence)."),
    model: Path | None = typer.Option(None, "--model", help="A model folder (default: the bundled model)."),
    spacy_model: str | None = typer.Option(None, "--spacy-model",
                                           help="Start from an installed spaCy model, e.g. en_core_web_sm."),
    password: str | None = typer.Option(None, "--password", help="Password of an encrypted PDF."),
    scope: Scope | None = typer.Option(None, "--scope", help="The document's instrument scope, overriding "
                                       "the scope model (recorded as overridden)."),
    workers: int | None = typer.Option(None, "--workers", "-w", min=1, help="Processes for one long "
                                       "document (default: 2 when this process may use 2 CPUs, "
                                       "else 1); the output is the same."),
    role_model: RoleMode = typer.Option(RoleMode.linear, "--role-model", help=ROLE_MODEL_HELP),
) -> None:
    """Tag each sentence of a document as centralized, sector_specific or neutral.

    Each sentence also gets its role (architecture, provision, other); the document its
    scope (horizontal, targeted, none), printed first. The label follows from both by
    the codebook's procedure (docs/codebook.md).
    """
    if (path is None) == (text is None):
        raise fail("give a file, - for stdin, or --text \"...\" (exactly one)", EXIT_USAGE)
    with _frozen_pipeline(model, spacy_model, role_model.value) as nlp:
        from policylens.nlp import tag, tag_text
        from policylens.nlp.fork import available_cpus

        scope_name = scope.value if scope is not None else None
        n = workers if workers is not None else min(2, available_cpus())
        if text is not None:
            tagged = tag_text(text, nlp=nlp, scope=scope_name, workers=n)
        elif str(path) == "-":
            tagged = tag_text(sys.stdin.read(), source="<stdin>", nlp=nlp, scope=scope_name, workers=n)
        else:
            assert path is not None
            if not path.exists():
                raise fail(f"no such file: {path}", EXIT_USAGE)
            from policylens.extract import extract

            tagged = tag(extract(path, password=password), nlp=nlp, scope=scope_name, workers=n)
    _print_tagged(tagged, fmt)


@contextmanager
def _frozen_pipeline(model: Path | None, spacy_model: str | None,
                     role_model: str = "linear") -> Iterator[Language]:
    """The loaded pipeline, its objects frozen for the garbage collector while the block runs.

    Importing spaCy and loading the models make many objects and few cycles, which the
    collector would otherwise scan again and again (about 0.25 s of a ``tag FILE`` run);
    frozen, collections while tagging skip them, and forked workers do not copy their pages.
    """
    gc.disable()
    try:
        from policylens.nlp import load_pipeline

        nlp = load_pipeline(model, spacy_model=spacy_model, role_model=role_model)
    finally:
        gc.freeze()
        gc.enable()
    try:
        yield nlp
    finally:
        gc.unfreeze()  # the command may run inside a longer-lived process (tests, a notebook)


def _print_tagged(tagged: TaggedDocument, fmt: TagFormat) -> None:
    """The scope on stderr, then the sentences as JSONL or a table on stdout."""
    decision = tagged.scope
    how = ("set by --scope" if decision.overridden
           else ", ".join(f"{k} {v:.2f}" for k, v in decision.probs.items()))
    err.print(f"scope: [bold]{decision.label}[/] ({how})")
    if fmt == "jsonl":
        # Plain writes: rich's print costs more than tagging a sentence, and would read
        # ":name:" in a sentence as an emoji code.
        write = sys.stdout.write
        for sentence in tagged.sentences:
            write(json.dumps(sentence.to_dict(), ensure_ascii=False) + "\n")
        return
    # File names and sentences are data, never markup ("a[/]b.txt" must not crash the table).
    table = Table(title=escape(f"{tagged.source} — {len(tagged.sentences)} sentences"), show_lines=False)
    for column in ("#", "label", "p", "role", "sentence", "cues"):
        table.add_column(column, overflow="fold")
    for s in tagged.sentences:
        table.add_row(str(s.sentence_id), f"[{LABEL_STYLE[s.label]}]{LABEL_SHORT[s.label]}[/]",
                      f"{s.probs[s.label]:.2f}", s.role[:4], escape(s.text),
                      ", ".join(_cue_text(c) for c in s.cues))
    out.print(table)
    if not tagged.sentences:
        err.print("no sentences found")


def _written_documents(folder: Path | None) -> list[Path]:
    """The written documents' stand-off folder: the one given, else the repository's if present."""
    from policylens.nlp.labelled import OWN_DOCUMENTS, written_documents_dir

    if folder is not None:
        if not (folder / OWN_DOCUMENTS).is_dir():
            raise fail(f"{folder}: not a folder of written documents (no {OWN_DOCUMENTS}/ subfolder)",
                       EXIT_USAGE)
        return [folder]
    default = written_documents_dir()
    return [default] if (default / OWN_DOCUMENTS).is_dir() else []


def _train_structure(data: Path | None, out_dir: Path | None, documents: Path | None, seed: int,
                     written_documents: Path | None, teacher: Path | None = None,
                     teacher_weight: float = 1.0, teacher_confident: float | None = None) -> None:
    from policylens.nlp.annotations import default_annotations_dir
    from policylens.nlp.model import GovernanceModel, default_model_dir
    from policylens.nlp.train_tagger import train_structure

    if documents is None:
        raise fail("--part structure needs --documents DIR: the folder the stand-off labels point into",
                   EXIT_USAGE)
    out = out_dir or default_model_dir()
    standoff_dir = default_annotations_dir().parent / "agora"
    result = train_structure(documents=documents, standoff_dir=standoff_dir,
                             more=_written_documents(written_documents), written=data, seed=seed,
                             teacher=teacher, teacher_weight=teacher_weight,
                             teacher_confident=teacher_confident,
                             content_model=GovernanceModel.load(out if (out / "model.json").is_file()
                                                                else default_model_dir()))
    out.mkdir(parents=True, exist_ok=True)
    result.role.save(out)
    result.scope.save(out)
    write_text_atomic(out / "structure_card.json", json.dumps(result.card, indent=2) + "\n")
    card = result.card
    err.print(f"role model {result.role.version} and scope model {result.scope.version} written to {out}")
    for name in ("heldout_role", "heldout_scope", "heldout_label_predicted_role"):
        if name in card:
            err.print(f"{name.replace('_', ' ')}: macro-F1 {card[name]['macro_f1']:.3f} "
                      f"(n = {card[name]['n']})")


def _train_facets(out_dir: Path | None, documents: Path | None, seed: int) -> None:
    from policylens.nlp.facet_model import default_facets_dir
    from policylens.nlp.train_facets import save_training, train_facets

    if documents is None:
        raise fail("--part facets needs --documents DIR: the corpus folder with agora/ and "
                   "eval_documents.txt", EXIT_USAGE)
    with err.status("tagging the AGORA training documents and fitting the facet models"):
        training = train_facets(documents, seed=seed)
    out = out_dir or default_facets_dir()
    save_training(training, out)
    err.print(f"facet models {', '.join(f'{k} {m.version}' for k, m in training.models.items())} "
              f"written to {out}")
    for family, report in training.reports.items():
        base = f"; phrase-list rule {report.baseline['micro']['f1']:.3f}" if report.baseline else ""
        err.print(f"{family}: cross-validated micro-F1 {report.micro['f1']:.3f} on {report.n_documents} "
                  f"training documents ({report.validated['f1']:.3f} on the validated ones){base}")


@handle_errors
def train_command(
    data: Path | None = typer.Option(None, "--data", help="Annotations folder or .jsonl file "
                                     "(default: corpora/annotations/sentences)."),
    out_dir: Path | None = typer.Option(None, "--out", help="Where to write the model "
                                        "(default: the bundled models/governance)."),
    unlabeled: Path | None = typer.Option(
        None, "--unlabeled", help="Folder of unlabelled .txt/.md/.pdf files: re-estimate class priors (EM)."),
    self_train: Path | None = typer.Option(
        None, "--self-train", help="Folder of unlabelled .txt/.md/.pdf files: add their confidently "
        "tagged sentences as down-weighted training examples (self-training)."),
    standoff: Path | None = typer.Option(
        None, "--standoff", help="Stand-off labels (.jsonl: id, source, sha256, label) for sentences of "
        "documents in --documents; their train split joins the written sentences."),
    documents: Path | None = typer.Option(
        None, "--documents", help="Folder the --standoff sources are relative to (read in place)."),
    seed: int = typer.Option(0, "--seed", help="Random seed (cross-validation folds)."),
    content_from: Path | None = typer.Option(
        None, "--content-from", help="Folder of v2.0 stand-off labels of free documents "
        "(corpora/annotations/agora): add the sentences whose label judges their words, label written "
        "sentences by their words, predict under training priors (the shipped content model)."),
    part: str = typer.Option("content", "--part", help="content (the approach of a sentence's words), "
                             "structure (the role and scope models, from the stand-off labels in "
                             "corpora/annotations/agora of the documents in --documents) or facets "
                             "(the document facet models, from AGORA's tags of the training documents "
                             "in --documents/agora; evaluation-only documents are left out)."),
    written_documents: Path | None = typer.Option(
        None, "--written-documents", help="Stand-off labels of the project's written documents (a folder "
        "with docs/, sentences.jsonl and scopes.jsonl), added to --content-from and --part structure "
        "(default: corpora/annotations/documents)."),
    teacher: Path | None = typer.Option(
        None, "--teacher", help="With --part structure: distil the role encoder into the role model from "
        "this teacher file (scripts/role_teacher.py: the encoder's role probabilities of unlabelled "
        "sentences of training documents)."),
    teacher_weight: float = typer.Option(
        1.0, "--teacher-weight", min=0.0, help="Weight of a teacher sentence (times each role's probability) "
        "against a labelled one."),
    teacher_confident: float | None = typer.Option(
        None, "--teacher-confident", min=0.0, max=1.0, help="Keep only the teacher sentences whose top role "
        "reaches this probability, as that role (pseudo-labels) instead of the probabilities."),
) -> None:
    """Train the tagger's models on their training data (held-out splits are never used).

    Example: policylens train --part structure --documents ../shared/corpus
    """
    from policylens.nlp.train import train

    if teacher is not None and part != "structure":
        raise fail("--teacher works with --part structure", EXIT_USAGE)
    if part == "structure":
        _train_structure(data, out_dir, documents, seed, written_documents, teacher, teacher_weight,
                         teacher_confident)
        return
    if part == "facets":
        _train_facets(out_dir, documents, seed)
        return
    if part != "content":
        raise fail(f"unknown --part {part!r} (use content, structure or facets)", EXIT_USAGE)

    result = train(data, out_dir, seed=seed, unlabeled=unlabeled, self_train=self_train,
                   standoff=standoff, documents=documents, content_from=content_from,
                   content_more=_written_documents(written_documents) if content_from is not None else [])
    card = result.card
    err.print(f"model {card['version']} written to {result.out}")
    if so := card["training_data"].get("standoff"):
        err.print(f"stand-off labels: {so['resolved']} of {so['labels']} sentences found in "
                  f"{so['documents']} documents")
        for source, reason in so["missing_documents"].items():
            log.warning("%s: %s", source, reason)
        if so["unmatched"]:
            log.warning("%d labelled sentences not found (document or segmentation changed)",
                        len(so["unmatched"]))
    if st := card["model"].get("self_training"):
        err.print(f"self-training: share {st['share']:g}, weight {st['weight']:g} "
                  f"(CV macro-F1 by share/weight: {st['cv_grid']})")
    for name, report in card["heldout_metrics"].items():
        err.print(f"held-out macro-F1 ({name.replace('_', ' ')}): {report['macro_f1']:.3f}")


def _report_table(title: str, report: dict[str, Any]) -> Table:
    table = Table(title=f"{title} — macro-F1 {report['macro_f1']:.3f}, n={report['n']}")
    for column in ("label", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label, m in report["per_class"].items():
        table.add_row(f"[{LABEL_STYLE[label]}]{label}[/]", f"{m['precision']:.3f}", f"{m['recall']:.3f}",
                      f"{m['f1']:.3f}", str(m["support"]))
    return table


def _confusion_table(confusion: dict[str, dict[str, int]]) -> Table:
    table = Table(title="confusion (rows: gold, columns: predicted)")
    table.add_column("gold \\ pred")
    for label in confusion:
        table.add_column(LABEL_SHORT[label], justify="right")
    for gold, row in confusion.items():
        table.add_row(LABEL_SHORT[gold], *(str(v) for v in row.values()))
    return table


@handle_errors
def evaluate_command(
    data: Path = typer.Argument(..., help="JSONL with 'text' and 'label' per line (or stand-off labels, "
                                "with --documents)."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
    predictions: Path | None = typer.Option(None, "--predictions",
                                            help="Write the input lines with 'pred' and 'probs' added."),
    by: str | None = typer.Option(None, "--by", help="Also break the metrics down by this input field."),
    model: Path | None = typer.Option(None, "--model", help="A model folder (default: the bundled model)."),
    documents: Path | None = typer.Option(
        None, "--documents", help="DATA holds stand-off labels (id, source, sha256, label) for sentences "
        "of the documents in this folder, read in place."),
) -> None:
    """Score the tagger on labelled sentences: per-class P/R/F1, macro-F1, confusion."""
    from policylens.nlp import load_pipeline
    from policylens.nlp.evaluate import evaluate

    result = evaluate(data, nlp=load_pipeline(model), by=by, documents=documents)
    if result.not_found and (result.not_found["documents"] or result.not_found["sentences"]):
        for source, reason in result.not_found["documents"].items():
            log.warning("%s: %s", source, reason)
        if result.not_found["sentences"]:
            log.warning("%d labelled sentences not found in their documents (not scored)",
                        len(result.not_found["sentences"]))
    if predictions is not None:
        write_text_atomic(predictions,
                          "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in result.rows))
    if as_json:
        out.print(json.dumps(result.to_dict(), indent=2), markup=False, highlight=False)
        return
    out.print(_report_table(data.name, result.report))
    out.print(_confusion_table(result.report["confusion"]))
    for value, report in (result.by or {}).items():
        out.print(_report_table(f"{by} = {value}", report))


@handle_errors
def agree_command(
    a: Path = typer.Argument(..., help="First annotator's JSONL (id or text, label)."),
    b: Path = typer.Argument(..., help="Second annotator's JSONL."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Agreement between two label sets: Cohen's kappa, percent and per-class agreement."""
    from policylens.nlp.evaluate import agree

    result = agree(a, b)
    if as_json:
        out.print(json.dumps(result, indent=2, ensure_ascii=False), markup=False, highlight=False)
        return
    out.print(f"{result['n']} sentences matched by {result['matched_by']}: kappa {result['kappa']:.3f}, "
              f"agreement {result['percent_agreement']:.1f}%")
    table = Table(title="per-class agreement")
    for column in ("label", "agreement", escape(a.name), escape(b.name)):
        table.add_column(column)
    for label, m in result["per_class"].items():
        table.add_row(label, f"{m['agreement']:.3f}", str(m["a"]), str(m["b"]))
    out.print(table)
    if result["disagreements"]:
        dis = Table(title=f"{len(result['disagreements'])} disagreements")
        # stand-off label files carry no text: leave the column out rather than print it empty
        with_text = any(row["text"] for row in result["disagreements"])
        for column in ("id", escape(a.name), escape(b.name), *(["text"] if with_text else [])):
            dis.add_column(column, overflow="fold")
        for row in result["disagreements"]:
            cells = [escape(str(row["id"] or "")), row["a"], row["b"]]
            dis.add_row(*cells, *([escape(row["text"])] if with_text else []))
        out.print(dis)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the policylens app."""
    app.command("tag")(tag_command)
    app.command("train")(train_command)
    app.command("evaluate")(evaluate_command)
    app.command("agree")(agree_command)
