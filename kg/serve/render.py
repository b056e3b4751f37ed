"""Pages as answers: the Jinja templates of kg/templates, HTML or the page's JSON by negotiation.

One Environment for the server, with the link helpers of the Site as globals, so every template writes
links and prefixed names the same way and --base is honoured everywhere. Autoescaping is on for all
templates: page data comes from the sources, and a source text may contain markup.
"""

from __future__ import annotations

import json
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..namespaces import PREFIXES
from .answers import Answer, Request, text_answer
from .formats import negotiate
from .paths import TEMPLATES
from .site import Site, local_name

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


class Renderer:
    """The templates, and the answers made with them: pages, page JSON, the 404 page."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"], default=True),
                               trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(href=site.href, public=site.public, local_name=local_name, prefix=site.link_prefix,
                                graph_base=site.graph_base, short=self.short)
        self.env.filters["short"] = self.short

    def short(self, iri: str | None) -> str:
        """An IRI as a prefixed name where one of our prefixes fits (for tables of statements)."""
        if not iri:
            return ""
        for p, ns in PREFIXES.items():
            if iri.startswith(str(ns)) and len(iri) > len(str(ns)):
                return f"{p}:{iri[len(str(ns)):]}"
        return iri

    def render(self, template: str, ctx: dict[str, Any], title: str, status: int = 200,
               alternates: list[tuple[str, str]] | None = None) -> Answer:
        body = self.env.get_template(template).render(page=ctx, title=title, alternates=alternates or [],
                                                      queries=self.site.queries)
        return Answer(status, "text/html; charset=utf-8", body.encode(), {"Content-Security-Policy": CSP})

    def json_answer(self, data: Any, status: int = 200) -> Answer:
        body = json.dumps(self.site.rebase(data), ensure_ascii=False, indent=1, default=str)
        return Answer(status, "application/json; charset=utf-8", body.encode())

    def page(self, req: Request, template: str, ctx: dict[str, Any], title: str, force_json: bool = False) -> Answer:
        if force_json or req.param("format") == "json":
            return self.json_answer(ctx)
        media = negotiate(req.accept(), ["text/html", "application/json"])
        if media == "application/json":
            ans = self.json_answer(ctx)
        else:
            ans = self.render(template, ctx, title, alternates=[("application/json", "/.json")])
        ans.headers["Vary"] = "Accept"
        return ans

    def not_found(self, req: Request, why: str = "") -> Answer:
        msg = why or "nothing is published at this address"
        if negotiate(req.accept(), ["text/plain", "text/html"]) == "text/html" and "text/html" in (req.accept() or ""):
            return self.render("error.html", {"status": 404, "message": msg, "path": req.path}, "Not found", status=404)
        return text_answer(404, f"404 not found: {msg}")
