"""`kg serve`: the built store on the web, read-only, for historians (pages) and for machines (SPARQL, RDF).

Layout of one running server:

    front process (kg.serve.http, stdlib ThreadingHTTPServer)
      /query            SPARQL 1.1 Protocol (sparql), answered by a pool of Oxigraph worker processes (pool)
      /id/..., /message/..., /source/..., /annotation/...
                        Cool URIs (describe): HTML (pages, render), Turtle, N-Triples, JSON-LD, RDF/XML or page
                        JSON by content negotiation (formats)
      /, /sparql        home page, query page with the canned queries of queries/
      /ontology         the vocabulary (ontology)
      /.well-known/void VoID description (void); /dumps/graph.{nq,ttl}.gz the build's dumps

Dependencies go one way: http -> sparql, describe, ontology, void -> render, pages -> site, and
sparql -> pool -> formats, answers. The query workers are separate processes (see kg.serve.pool for why);
pages are answered in the front process from its own read-only handle (kg.serve.site).
"""

from __future__ import annotations

from .formats import negotiate
from .http import App, serve
from .pool import QueryPool
from .site import Site
from .sparql import is_update

__all__ = ["serve", "negotiate", "is_update", "QueryPool", "Site", "App"]
