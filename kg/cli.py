"""The `kg` command: build, query, export, evaluate, explain, serve."""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

from .errors import KGError
from .store import open_store, store_path


def _store_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", metavar="DIR", help="the store (default: data/store, or $WARTIME_KG_STORE)")


def cmd_build(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .builder import SEEDS_DIR, build

    console = Console(stderr=True)
    store = store_path(args.store)
    seeds = Path(args.seeds) if args.seeds else SEEDS_DIR
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=args.quiet) as bar:
        task = bar.add_task("extracting", total=None)

        def progress(name: str, i: int, total: int) -> None:
            bar.update(task, total=total, completed=i, description=f"extracting {name}")

        summary = build(
            args.sources or None,
            store,
            seeds_dir=seeds,
            model=args.model,
            strict=args.strict,
            workers=args.workers,
            executor=args.executor,
            use_cache=not args.no_cache,
            report=lambda msg: console.print(msg, markup=False, highlight=False, soft_wrap=True),
            progress=progress,
        )
    if args.json:
        print(json.dumps(summary.__dict__))
    else:
        print(
            f"built {store}: {summary.files} files, {summary.messages} messages, {summary.mentions} mentions "
            f"({summary.linked} linked to the authority), {summary.entities} entities, {summary.triples} triples, "
            f"{summary.seconds} seconds ({summary.parsed} parsed, {summary.cached} from cache)"
        )
        if summary.errors:
            print(f"{len(summary.errors)} source(s) skipped with errors (see above)")
    return 1 if summary.errors and args.strict else 0


def cmd_query(args: argparse.Namespace) -> int:
    import pyoxigraph as ox

    from .namespaces import sparql_prologue

    text = args.query
    p = Path(text)
    if len(text) < 300 and p.suffix in (".rq", ".sparql") and p.exists():
        text = p.read_text(encoding="utf-8")
    store = open_store(store_path(args.store))
    if not re.search(r"^\s*PREFIX\s", text, re.IGNORECASE | re.MULTILINE):
        text = sparql_prologue() + text
    try:
        res = store.query(text, use_default_graph_as_union=True)
    except SyntaxError as exc:
        raise KGError(f"the query does not parse: {exc}") from None
    if isinstance(res, bool):
        print(json.dumps(res) if args.format == "json" else str(res).lower())
        return 0
    if isinstance(res, ox.QueryTriples):
        sys.stdout.write(ox.serialize(res, format=ox.RdfFormat.TURTLE).decode())
        return 0
    names = [v.value for v in res.variables]
    rows = [[(row[n].value if row[n] is not None else None) for n in names] for row in res]
    if args.format == "json":
        for r in rows:
            print(json.dumps(dict(zip(names, r)), ensure_ascii=False))
    elif args.format == "csv":
        w = csv.writer(sys.stdout)
        w.writerow(names)
        w.writerows([["" if v is None else v for v in r] for r in rows])
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(*names, show_lines=False)
        for r in rows:
            table.add_row(*["" if v is None else str(v) for v in r])
        Console().print(table)
        print(f"{len(rows)} rows")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from . import exports

    store = open_store(store_path(args.store))
    if args.what in ("messages", "mentions"):
        records = exports.iter_messages(store) if args.what == "messages" else exports.iter_mentions(store)
        if args.output:
            with open(args.output, "w", encoding="utf-8") as fh:
                n = exports.write_jsonl(records, fh)
            print(f"wrote {n} {args.what} to {args.output}", file=sys.stderr)
        else:
            exports.write_jsonl(records, sys.stdout)
        return 0
    from . import network

    return network.export(store, args)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import evaluate, format_report

    report = evaluate(Path(args.gold), open_store(store_path(args.store)), Path(args.seeds) if args.seeds else None)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from .explain import explain

    print(explain(open_store(store_path(args.store)), args.target))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .serve import serve

    return serve(store_path(args.store), args.host, args.port, base=args.base, timeout=args.timeout,
                 seeds=Path(args.seeds) if args.seeds else None, workers=args.workers, in_memory=args.in_memory)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kg", description="wartime-kg: build, query and publish the knowledge graph of the Allied wartime correspondence.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="build the graph from seeds/ into the store")
    p.add_argument("sources", nargs="*", help="source files of the manifest (default: all)")
    _store_arg(p)
    p.add_argument("--seeds", metavar="DIR", help="corpus folder with manifest.toml (default: seeds/)")
    p.add_argument("--model", help="spaCy model package, or 'sm' / 'md' (default: $WARTIME_KG_MODEL or sm)")
    p.add_argument("--strict", action="store_true", help="any input error is fatal")
    p.add_argument("--workers", type=int, default=1, help="worker processes for extraction")
    p.add_argument("--executor", help="'dask' for a local Dask cluster, 'dask=ADDRESS' for a scheduler")
    p.add_argument("--no-cache", action="store_true", help="parse every document again")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("query", help="run a SPARQL query (text or .rq file) against the store")
    p.add_argument("query")
    _store_arg(p)
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.set_defaults(func=cmd_query)

    p = sub.add_parser("export", help="export messages, mentions or networks")
    p.add_argument("what", choices=["messages", "mentions", "gexf", "graphml", "csv", "cmif", "png", "svg"])
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
    p.add_argument("--network", choices=["correspondence", "co-mention", "bipartite"], default=None,
                   help="which network for gexf/graphml/csv (default: correspondence); png/svg always draw co-mention")
    p.add_argument("--top", type=int, default=40, help="png/svg: how many of the most mentioned entities")
    _store_arg(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("evaluate", help="score the built graph against the dev gold")
    p.add_argument("--gold", default="eval/gold", help="folder(s) of messages.jsonl / mentions.jsonl")
    p.add_argument("--seeds", help="corpus folder (default: seeds/)")
    p.add_argument("--json", action="store_true")
    _store_arg(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("explain", help="why a mention was linked as it was (mention IRI, FILE:START-END, or entity)")
    p.add_argument("target")
    _store_arg(p)
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("serve", help="serve the store: SPARQL endpoint, entity pages, dumps")
    _store_arg(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7878)
    p.add_argument("--base", help="base IRI the entity URIs are published under (default: the graph's)")
    p.add_argument("--timeout", type=float, default=10.0, help="query timeout in seconds")
    p.add_argument("--seeds", metavar="DIR", help="corpus folder for message texts (default: the one the store was built from)")
    p.add_argument("--workers", type=int, help="Oxigraph query worker processes (default: by CPU count)")
    p.add_argument("--in-memory", choices=["auto", "always", "never"], default="auto",
                   help="query workers hold the graph in memory (3-5x faster queries, ~0.65 KB per quad and worker); "
                        "auto: up to 250,000 quads (default), otherwise they read the on-disk store")
    p.set_defaults(func=cmd_serve)

    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except KGError as exc:
        print(f"kg: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

