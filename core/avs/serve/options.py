"""A method's prediction options, read from its config dataclass, for the browser demo's form.

Only options that change a prediction without changing the network are offered: top-level scalar
fields and the fields of sections other than :data:`HIDDEN_SECTIONS` (those hold the network shape,
the training recipe and data-set layout, which the checkpoint fixes). A field is typed by its
annotation:

- ``bool`` → a check box; ``int`` / ``float`` → a number field; ``Optional[int]`` → a number that may
  be left empty (None);
- ``enum.Enum`` subclasses, ``typing.Literal[...]`` and fields declared with :func:`avs.config.option`
  ``(choices=...)`` → a drop-down;
- free-text ``str`` fields are **not** offered: they name files on the server (checkpoints, plots), which a
  page must not choose.

Ranges and help come from :func:`avs.config.option` metadata (``min``, ``max``, ``step``, ``help``); the
help text falls back to the dataclass docstring's ``Attributes:`` entry. ``option(..., serve=False)`` hides
a field (e.g. one that selects the network variant).
"""

from __future__ import annotations

import dataclasses
import enum
import math
import re
import types
import typing
from dataclasses import dataclass
from typing import Any

from avs.errors import AvsError

HIDDEN_SECTIONS = frozenset({"train", "model", "loss", "data", "eval"})
"""Config sections never offered in the demo: the checkpoint fixes them."""


@dataclass(frozen=True)
class OptionSpec:
    """One form field.

    Attributes:
        key: dotted config key (``infer.silence_gate_db``), what ``key=value`` overrides use.
        kind: ``"choice"``, ``"bool"``, ``"int"`` or ``"float"``.
        default: the config class's default (None for an empty optional number).
        choices: the allowed values of a ``"choice"`` (strings), else ().
        minimum: smallest allowed number, or None.
        maximum: largest allowed number, or None.
        step: step of a number field, or None.
        optional: a number that may be empty (None).
        help: one-line description.
    """

    key: str
    kind: str
    default: Any
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    optional: bool = False
    help: str = ""

    @property
    def label(self) -> str:
        """The field's label in the page: the dotted key."""
        return self.key


def _attribute_docs(cls: type) -> dict[str, str]:
    """``{field: first sentence}`` from a Google-style ``Attributes:`` docstring section."""
    doc = cls.__doc__ or ""
    out: dict[str, str] = {}
    match = re.search(r"^\s*Attributes:\s*$", doc, flags=re.MULTILINE)
    if not match:
        return out
    current: str | None = None
    base_indent: int | None = None
    for line in doc[match.end():].splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if base_indent is None:
            base_indent = indent
        if indent < base_indent:
            break
        item = re.match(r"(\w+):\s*(.*)", line.strip())
        if indent == base_indent and item:
            current = item.group(1)
            out[current] = item.group(2)
        elif current is not None:
            out[current] += " " + line.strip()
    return {k: " ".join(v.replace("``", "").split()) for k, v in out.items()}


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0], True
    return tp, False


def _spec(key: str, tp: Any, default: Any, meta: dict[str, Any], doc: str) -> OptionSpec | None:
    tp, optional = _unwrap_optional(tp)
    help_text = str(meta.get("help") or doc)
    number = {"minimum": meta.get("min"), "maximum": meta.get("max"), "step": meta.get("step")}
    if meta.get("choices"):
        return OptionSpec(key, "choice", None if default is None else str(default),
                          tuple(str(c) for c in meta["choices"]), optional=optional, help=help_text)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        value = default.name if isinstance(default, enum.Enum) else default
        return OptionSpec(key, "choice", value, tuple(m.name for m in tp), optional=optional, help=help_text)
    if typing.get_origin(tp) is typing.Literal:
        return OptionSpec(key, "choice", default, tuple(str(a) for a in typing.get_args(tp)), optional=optional,
                          help=help_text)
    if tp is bool:
        return None if optional else OptionSpec(key, "bool", bool(default), help=help_text)
    if tp is int:
        return OptionSpec(key, "int", default, optional=optional, help=help_text, **number)
    if tp is float:
        return OptionSpec(key, "float", default, optional=optional, help=help_text, **number)
    return None  # free text (file paths on the server), lists, nested containers: not offered


def prediction_options(config_class: type) -> list[OptionSpec]:
    """The options of ``config_class`` a demo page offers, in declaration order.

    Args:
        config_class: a method's config dataclass (``Method.config_class``).

    Returns:
        one :class:`OptionSpec` per offered field; top-level fields first, then each offered section's.
    """
    out: list[OptionSpec] = []

    def walk(cls: type, prefix: str) -> None:
        hints = typing.get_type_hints(cls)
        docs = _attribute_docs(cls)
        nested: list[tuple[str, type]] = []
        for f in dataclasses.fields(cls):
            meta = dict(f.metadata.get("avs", {}))
            if meta.get("serve") is False:
                continue
            tp = hints.get(f.name, f.type)
            if isinstance(tp, type) and dataclasses.is_dataclass(tp):
                if not prefix and f.name in HIDDEN_SECTIONS:
                    continue
                nested.append((f.name, tp))
                continue
            if f.default is not dataclasses.MISSING:
                default = f.default
            elif f.default_factory is not dataclasses.MISSING:
                default = f.default_factory()
            else:
                default = None
            spec = _spec(prefix + f.name, tp, default, meta, docs.get(f.name, ""))
            if spec is not None:
                out.append(spec)
        for name, sub in nested:
            walk(sub, f"{prefix}{name}.")

    walk(config_class, "")
    return out


def _format_number(value: float) -> str:
    if math.isinf(value):
        return "-inf" if value < 0 else "inf"
    return repr(value)


def to_overrides(specs: list[OptionSpec], values: dict[str, Any]) -> list[str]:
    """``key=value`` overrides for the values that differ from the defaults, checked against the specs.

    Args:
        specs: from :func:`prediction_options`.
        values: ``{dotted key: value}`` from the page or an API call; keys not offered are an error.

    Returns:
        overrides in the form ``avs predict`` takes (``emotion=happy``, ``infer.smooth=false``).

    Raises:
        AvsError: an unknown option, a value outside its choices or range, or of the wrong type.
    """
    by_key = {s.key: s for s in specs}
    out: list[str] = []
    for key, value in values.items():
        spec = by_key.get(key)
        if spec is None:
            known = ", ".join(by_key) or "none"
            raise AvsError(f"unknown option {key!r} (options of this method: {known})")
        if value is None or (isinstance(value, str) and not value.strip() and spec.kind != "choice"):
            if spec.optional:
                out.append(f"{key}=null")
                continue
            raise AvsError(f"option {key} needs a value")
        if spec.kind == "choice":
            if str(value) not in spec.choices:
                raise AvsError(f"option {key} must be one of {', '.join(spec.choices)}, got {value!r}")
            out.append(f"{key}={value}")
            continue
        if spec.kind == "bool":
            if isinstance(value, str) and value.lower() in ("true", "false"):
                value = value.lower() == "true"
            if not isinstance(value, bool):
                raise AvsError(f"option {key} must be true or false, got {value!r}")
            out.append(f"{key}={'true' if value else 'false'}")
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise AvsError(f"option {key} must be a number, got {value!r}") from None
        if math.isnan(number):
            raise AvsError(f"option {key} must be a number, got NaN")
        if spec.kind == "int":
            if not number.is_integer():
                raise AvsError(f"option {key} must be a whole number, got {value!r}")
            number = int(number)
        if spec.minimum is not None and number < spec.minimum:
            raise AvsError(f"option {key} must be at least {spec.minimum:g}, got {number:g}")
        if spec.maximum is not None and number > spec.maximum:
            raise AvsError(f"option {key} must be at most {spec.maximum:g}, got {number:g}")
        out.append(f"{key}={number}" if spec.kind == "int" else f"{key}={_format_number(number)}")
    return out
