"""Callables as ``"module:qualname"`` references, so that tasks can be stored and looked
up again in another process.

Only objects that another process can import by name have a reference: module-level
functions, classes, static and class methods, and methods of builtin types. Lambdas,
nested functions, partials and bound instance methods do not; :func:`normalize_callable`
turns the last two into a referenceable function plus extra arguments.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from importlib import import_module
from types import BuiltinFunctionType, MethodType, ModuleType
from typing import Any

from ._exceptions import CallableLookupError, SerializationError

_LAMBDA_HINT = (
    "a lambda cannot be stored by reference; define a module-level function, or give it a "
    "task id with configure_task('my-id', func=...) on a scheduler that keeps it in memory"
)
_NESTED_HINT = (
    "a function defined inside another function cannot be stored by reference; move it to "
    "module level, or give it a task id with configure_task('my-id', func=...) on a "
    "scheduler that keeps it in memory"
)


def _describe(func: Any) -> str:
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    return repr(name) if isinstance(name, str) else f"object of type {type(func).__name__!r}"


def callable_to_ref(func: Callable[..., Any]) -> str:
    """Return the ``"module:qualname"`` reference of ``func``.

    Raises :class:`~apscheduler.SerializationError`, with a hint on what to do instead,
    when ``func`` cannot be imported by name from another process.
    """
    if isinstance(func, partial):
        raise SerializationError(
            f"Cannot make a reference to {func!r}: a functools.partial cannot be stored by "
            f"reference; pass the wrapped function and give its arguments as args/kwargs"
        )

    if isinstance(func, MethodType) and not isinstance(func.__self__, type):
        raise SerializationError(
            f"Cannot make a reference to the bound method {_describe(func)}: it is bound to "
            f"an instance of {type(func.__self__).__name__!r}; pass the unbound function and "
            f"the instance as its first argument (or use a classmethod/staticmethod)"
        )

    if isinstance(func, BuiltinFunctionType):
        owner = func.__self__
        if owner is not None and not isinstance(owner, (ModuleType, type)):
            raise SerializationError(
                f"Cannot make a reference to the builtin method {_describe(func)}: it is bound "
                f"to an instance of {type(owner).__name__!r}; pass "
                f"{type(owner).__name__}.{func.__name__} and the instance as its first argument"
            )

    qualname = getattr(func, "__qualname__", None)
    module = getattr(func, "__module__", None)
    if module is None:
        # Method descriptors of builtin types (str.upper) only know their class, and
        # builtin class methods (datetime.now) the class they are bound to
        owner = getattr(func, "__objclass__", None)
        bound_to = getattr(func, "__self__", None)
        if owner is None and isinstance(bound_to, type):
            owner = bound_to
        module = getattr(owner, "__module__", None)

    if not isinstance(qualname, str) or not isinstance(module, str):
        raise SerializationError(
            f"Cannot make a reference to {_describe(func)}: only functions, classes and "
            f"methods (which have __module__ and __qualname__) can be stored by reference; "
            f"pass a module-level function that calls it"
        )
    if "<lambda>" in qualname:
        raise SerializationError(f"Cannot make a reference to {_describe(func)}: {_LAMBDA_HINT}")
    if "<locals>" in qualname:
        raise SerializationError(f"Cannot make a reference to {_describe(func)}: {_NESTED_HINT}")

    ref = f"{module}:{qualname}"
    _check_resolves_to(ref, module, qualname, func)
    return ref


def _check_resolves_to(ref: str, module_name: str, qualname: str, func: Any) -> None:
    """Fail early if ``ref`` would not find ``func`` again.

    Only checked when the module is already imported, so making a reference never runs
    import side effects.
    """
    module = sys.modules.get(module_name)
    if module is None:
        return
    try:
        found = _walk(module, qualname)
    except AttributeError:
        raise SerializationError(
            f"Cannot make a reference to {_describe(func)}: {ref!r} does not find it again "
            f"(was it renamed, or replaced by a decorator without functools.wraps?)"
        ) from None
    if found is not func and found != func:
        raise SerializationError(
            f"Cannot make a reference to {_describe(func)}: {ref!r} refers to a different "
            f"object ({found!r}); another process would run that one instead"
        )


def _walk(obj: Any, qualname: str) -> Any:
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def callable_from_ref(ref: str) -> Callable[..., Any]:
    """Import and return the callable that ``ref`` (``"module:qualname"``) names.

    Raises ``ValueError`` for a malformed reference and
    :class:`~apscheduler.CallableLookupError` (naming the module or attribute) when the
    callable cannot be found.
    """
    if not isinstance(ref, str):
        raise TypeError(f"A callable reference must be a str, got {type(ref).__name__}")
    module_name, sep, qualname = ref.partition(":")
    if not sep or not module_name or not qualname:
        raise ValueError(f"Invalid callable reference {ref!r}: expected 'module:qualname'")

    try:
        module = import_module(module_name)
    except Exception as exc:
        raise CallableLookupError(
            f"Cannot import module {module_name!r} to find {ref!r}: {type(exc).__name__}: {exc}"
        ) from exc

    try:
        obj = _walk(module, qualname)
    except AttributeError:
        raise CallableLookupError(
            f"Module {module_name!r} has no attribute {qualname!r} (looking up {ref!r})"
        ) from None

    if not callable(obj):
        raise CallableLookupError(
            f"{ref!r} refers to a {type(obj).__name__!r} object, which is not callable"
        )
    return obj


def normalize_callable(
    func: Callable[..., Any], args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
) -> tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]:
    """Rewrite ``func(*args, **kwargs)`` as an equivalent call of a referenceable callable.

    * ``functools.partial``: its function, with its arguments before ``args`` and its
      keywords merged under ``kwargs`` (``kwargs`` win).
    * bound instance method ``obj.method``: the function, with ``obj`` as first argument.
    * bound builtin method (``[].append``): ``type(obj).method`` with ``obj`` first.

    Class methods, static methods and plain functions are returned unchanged.
    """
    args = tuple(args)
    kwargs = dict(kwargs or {})
    while True:
        if isinstance(func, partial):
            args = func.args + args
            kwargs = {**func.keywords, **kwargs}
            func = func.func
        elif isinstance(func, MethodType) and not isinstance(func.__self__, type):
            args = (func.__self__, *args)
            func = func.__func__
        elif (
            isinstance(func, BuiltinFunctionType)
            and func.__self__ is not None
            and not isinstance(func.__self__, (ModuleType, type))
        ):
            owner = func.__self__
            unbound = getattr(type(owner), func.__name__, None)
            if unbound is None:
                return func, args, kwargs
            args = (owner, *args)
            func = unbound
        else:
            return func, args, kwargs
