"""A small self-contained API reference page rendered from the OpenAPI schema.

FastAPI's Swagger UI and ReDoc load their assets from a CDN, which fails offline, so they are
disabled; ``/openapi.json`` stays available for tools, and ``/docs`` serves this page.
"""

from __future__ import annotations

from html import escape
from typing import Any

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} API</title>
<link rel="stylesheet" href="/static/style.css">
</head>
<body>
<main class="docs">
<h1>{title} API <small>{version}</small></h1>
<p>Machine-readable schema: <a href="/openapi.json">/openapi.json</a>.
Errors are JSON <code>{{"error": kind, "detail": text}}</code>.
When API keys are configured, send one in the <code>X-API-Key</code> header.</p>
<table>
<thead>
<tr><th scope="col">Method</th><th scope="col">Path</th><th scope="col">What</th></tr>
</thead>
<tbody>
{rows}
</tbody>
</table>
</main>
</body>
</html>
"""


def render_docs(openapi: dict[str, Any]) -> str:
    """The HTML page listing every operation in ``openapi``."""
    rows = []
    for path, operations in openapi.get("paths", {}).items():
        for method, operation in operations.items():
            summary = operation.get("summary", "")
            rows.append(
                f"<tr><td><code>{escape(method.upper())}</code></td>"
                f"<td><code>{escape(path)}</code></td><td>{escape(summary)}</td></tr>"
            )
    info = openapi.get("info", {})
    return _PAGE.format(
        title=escape(str(info.get("title", "API"))),
        version=escape(str(info.get("version", ""))),
        rows="\n".join(rows),
    )
