"""Rendering an impact closure (``featmesh impact``) as text or Markdown."""

from __future__ import annotations

from collections.abc import Sequence

from featmesh.connector.mapping.graph import Impact, Node


def _label(node: Node) -> str:
    version = f"@{node.version}" if node.version not in (None, "") else ""
    who = ", ".join(x for x in (node.owner, node.domain and f"domain {node.domain}") if x)
    return f"{node.name}{version}" + (f" ({who})" if who else "")


def impact_text(impacts: Sequence[Impact]) -> str:
    lines: list[str] = []
    for impact in impacts:
        target = impact.target
        lines.append(f"impact of {target.kind.replace('_', ' ')} {target.qualified_name}")
        if not (impact.feature_sets or impact.models or impact.endpoints):
            lines.append("  nothing downstream reads it")
        for title, items in (
            ("feature sets", impact.feature_sets),
            ("models", impact.models),
            ("serving endpoints", impact.endpoints),
        ):
            if items:
                lines.append(f"  {title} ({len(items)}):")
                for node, depth in sorted(items, key=lambda i: (i[1], i[0].qualified_name)):
                    kind = f"[{node.consumer_kind}] " if node.kind == "model" else ""
                    lines.append(f"    {'  ' * (depth - 1)}{kind}{_label(node)}  {node.qualified_name}")
        features = list(dict.fromkeys(impact.features))
        if features:
            lines.append(
                f"  features ({len(features)}): " + ", ".join(f.rsplit("/", 1)[-1] for f in features)
            )
        lines.append("  owners: " + (", ".join(impact.owners) or "none recorded"))
        lines.append("  domains: " + (", ".join(impact.domains) or "none recorded"))
    return "\n".join(lines)


def _cell(text: object) -> str:
    return str(text if text not in (None, "") else "-").replace("|", "\\|").replace("\n", " ")


def impact_markdown(impacts: Sequence[Impact]) -> str:
    out: list[str] = []
    for impact in impacts:
        target = impact.target
        total = len(impact.feature_sets) + len(impact.models) + len(impact.endpoints)
        out.append(f"### Impact of `{_cell(target.qualified_name)}`")
        out.append("")
        out.append(
            f"{len(impact.feature_sets)} feature set(s), {len(impact.models)} model(s) and "
            f"{len(impact.endpoints)} serving endpoint(s) downstream; "
            f"owners to notify: {', '.join(impact.owners) or 'none recorded'}."
        )
        if total:
            out += ["", "| what | name | owner | domain | depth |", "| --- | --- | --- | --- | --- |"]
            for title, items in (
                ("feature set", impact.feature_sets),
                ("model", impact.models),
                ("serving endpoint", impact.endpoints),
            ):
                for node, depth in sorted(items, key=lambda i: (i[1], i[0].qualified_name)):
                    what = node.consumer_kind if node.kind == "model" and title == "model" else title
                    version = f"@{node.version}" if node.version not in (None, "") else ""
                    out.append(
                        f"| {_cell(what)} | `{_cell(node.name + version)}` | {_cell(node.owner)} "
                        f"| {_cell(node.domain)} | {depth} |"
                    )
        features = list(dict.fromkeys(impact.features))
        if features:
            out += ["", f"<details><summary>{len(features)} feature(s) affected</summary>", ""]
            out += [f"- `{_cell(f)}`" for f in features]
            out += ["", "</details>"]
        out.append("")
    return "\n".join(out).rstrip() + "\n"
