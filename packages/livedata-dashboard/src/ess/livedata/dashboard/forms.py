"""Forms generated from pydantic parameter models, validated as the user types.

Workflow specs carry their parameters as pydantic models; the model is the
single source of truth for labels (``title``), help (``description``),
defaults and constraints, so the dashboard never duplicates them. Errors are
the model's own messages, shown under the form before anything is sent.
"""

from __future__ import annotations

import enum
import html
import json
import types
import typing
from collections.abc import Mapping
from typing import Any

import panel as pn
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from ess.livedata.core.commands import validation_summary


def _default(field: FieldInfo) -> Any:
    if field.default is not PydanticUndefined:
        return field.default
    if field.default_factory is not None:
        return field.get_default(call_default_factory=True)
    return None


def _plain(annotation: Any) -> Any:
    """``X`` for ``X | None``; other annotations unchanged."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _widget_type(
    annotation: Any, default: Any
) -> tuple[type[pn.widgets.Widget], dict[str, Any]]:
    """Widget class and value arguments for a field's type."""
    if annotation is bool:
        return pn.widgets.Checkbox, {"value": bool(default)}
    if annotation is int:
        return pn.widgets.IntInput, {"value": default}
    if annotation is float:
        return pn.widgets.FloatInput, {"value": default}
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        value = default.value if isinstance(default, enum.Enum) else default
        return pn.widgets.Select, {
            "options": [member.value for member in annotation],
            "value": value,
        }
    if typing.get_origin(annotation) is typing.Literal:
        return pn.widgets.Select, {
            "options": list(typing.get_args(annotation)),
            "value": default,
        }
    if annotation is str:
        return pn.widgets.TextInput, {"value": default or ""}
    text = "" if default is None else json.dumps(default)
    return pn.widgets.TextInput, {"value": text, "placeholder": "JSON"}


def field_widget(name: str, field: FieldInfo) -> pn.widgets.Widget:
    """The widget for one field; JSON text for types without a better widget."""
    cls, kwargs = _widget_type(_plain(field.annotation), _default(field))
    kwargs["label"] = field.title or name
    if field.description and "description" in cls.param:
        kwargs["description"] = field.description
    return cls(**kwargs)


class ModelForm:
    """Widgets for every field of ``model`` and the errors of their values."""

    def __init__(self, model: type[BaseModel]) -> None:
        self._model = model
        fields = model.model_fields
        self.widgets = {
            name: field_widget(name, field) for name, field in fields.items()
        }
        self._json = {
            name
            for name, widget in self.widgets.items()
            if isinstance(widget, pn.widgets.TextInput)
            and _plain(fields[name].annotation) is not str
        }
        self.errors = pn.pane.HTML("", css_classes=["ld-form-errors"])
        for widget in self.widgets.values():
            widget.param.watch(lambda _event: self.validate(), "value")
        self.view = pn.Column(*self.widgets.values(), self.errors)
        self.validate()

    def fill(self, params: Mapping[str, Any]) -> None:
        """Show ``params`` (e.g. those last sent) instead of the defaults."""
        for name, value in params.items():
            widget = self.widgets.get(name)
            if widget is not None:
                widget.value = json.dumps(value) if name in self._json else value

    def _values(self) -> dict[str, Any]:
        values = {}
        for name, widget in self.widgets.items():
            value = widget.value
            if name in self._json:
                value = json.loads(value) if value.strip() else None
            values[name] = value
        return values

    def validate(self) -> BaseModel | None:
        """The parameters, or None after showing why they are invalid."""
        try:
            params = self._model.model_validate(self._values())
        except json.JSONDecodeError as error:
            message = f"not JSON: {error}"
        except ValidationError as error:
            message = validation_summary(error)
        else:
            self.errors.object = ""
            return params
        self.errors.object = (
            f'<div style="color:#842029" role="alert">{html.escape(message)}</div>'
        )
        return None
