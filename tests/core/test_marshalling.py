"""Callables are stored as ``"module:qualname"`` references; what cannot be found again
by name in another process is refused with advice, and partials/bound methods are
rewritten into a referenceable function plus arguments."""

from __future__ import annotations

import os.path
import sys
from collections.abc import Callable
from datetime import datetime
from functools import partial, wraps
from typing import Any

import pytest
from apscheduler import CallableLookupError, SerializationError
from apscheduler._marshalling import callable_from_ref, callable_to_ref, normalize_callable

MODULE = __name__


def module_function(x: int = 1) -> int:
    return x


def _decorator(func: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


def _bad_decorator(func: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


@_decorator
def wrapped_function() -> str:
    return "wrapped"


@_bad_decorator
def badly_wrapped_function() -> None:
    pass


class Service:
    class Inner:
        @staticmethod
        def deep() -> str:
            return "deep"

    def method(self, x: int) -> int:
        return x

    @classmethod
    def create(cls) -> Service:
        return cls()

    @staticmethod
    def helper() -> str:
        return "static"

    def __call__(self) -> None:
        pass


NOT_CALLABLE = 42


@pytest.mark.parametrize(
    "func, ref",
    [
        (module_function, f"{MODULE}:module_function"),
        (wrapped_function, f"{MODULE}:wrapped_function"),
        (Service, f"{MODULE}:Service"),
        (Service.create, f"{MODULE}:Service.create"),
        (Service.helper, f"{MODULE}:Service.helper"),
        (Service.method, f"{MODULE}:Service.method"),
        (Service.Inner.deep, f"{MODULE}:Service.Inner.deep"),
        (os.path.join, f"{os.path.join.__module__}:join"),
        (print, "builtins:print"),
        (str.upper, "builtins:str.upper"),
        (dict.fromkeys, "builtins:dict.fromkeys"),
        (datetime.now, "datetime:datetime.now"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_reference_round_trip(func: Callable[..., Any], ref: str) -> None:
    assert callable_to_ref(func) == ref
    assert callable_from_ref(ref) == func


def test_lambda_is_refused_with_advice() -> None:
    with pytest.raises(SerializationError) as exc_info:
        callable_to_ref(lambda: None)
    assert (
        "a lambda cannot be stored by reference; define a module-level function, or give it a "
        "task id with configure_task('my-id', func=...) on a scheduler that keeps it in memory"
    ) in str(exc_info.value)


def test_nested_function_is_refused() -> None:
    def inner() -> None:
        pass

    with pytest.raises(SerializationError, match="defined inside another function"):
        callable_to_ref(inner)


def test_partial_is_refused() -> None:
    with pytest.raises(SerializationError, match="functools.partial"):
        callable_to_ref(partial(module_function, 2))


def test_bound_instance_method_is_refused() -> None:
    with pytest.raises(SerializationError, match="bound to an instance of 'Service'"):
        callable_to_ref(Service().method)


def test_bound_builtin_method_is_refused() -> None:
    with pytest.raises(SerializationError, match="bound to an instance of 'list'"):
        callable_to_ref([].append)


def test_callable_instance_is_refused() -> None:
    with pytest.raises(SerializationError, match="only functions, classes and methods"):
        callable_to_ref(Service())


def test_decorator_without_wraps_is_refused() -> None:
    with pytest.raises(SerializationError, match="defined inside another function"):
        callable_to_ref(badly_wrapped_function)


def test_reference_that_finds_another_object_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = module_function
    monkeypatch.setattr(sys.modules[MODULE], "module_function", wrapped_function)
    with pytest.raises(SerializationError, match="refers to a different object"):
        callable_to_ref(original)


def test_renamed_function_is_refused() -> None:
    def shadow() -> None:
        pass

    shadow.__qualname__ = "does_not_exist"
    shadow.__module__ = MODULE
    with pytest.raises(SerializationError, match="does not find it again"):
        callable_to_ref(shadow)


@pytest.mark.parametrize("ref", ["no_colon", ":qualname", "module:", ""])
def test_malformed_reference(ref: str) -> None:
    with pytest.raises(ValueError, match="expected 'module:qualname'"):
        callable_from_ref(ref)


def test_missing_module_names_the_module() -> None:
    with pytest.raises(CallableLookupError, match="Cannot import module 'no_such_module_xyz'"):
        callable_from_ref("no_such_module_xyz:func")


def test_missing_attribute_names_module_and_attribute() -> None:
    with pytest.raises(
        CallableLookupError, match=f"Module '{MODULE}' has no attribute 'Service.nope'"
    ):
        callable_from_ref(f"{MODULE}:Service.nope")


def test_not_callable() -> None:
    with pytest.raises(CallableLookupError, match="'int' object, which is not callable"):
        callable_from_ref(f"{MODULE}:NOT_CALLABLE")


def test_module_that_fails_to_import(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broken_task_module.py").write_text("raise RuntimeError('bad config')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(CallableLookupError, match="RuntimeError: bad config"):
        callable_from_ref("broken_task_module:func")


# normalize_callable


def test_normalize_partial_merges_arguments() -> None:
    func, args, kwargs = normalize_callable(
        partial(module_function, 1, a=1, b=2), (2,), {"b": 3, "c": 4}
    )
    assert func is module_function
    assert args == (1, 2)
    assert kwargs == {"a": 1, "b": 3, "c": 4}


def test_normalize_nested_partials() -> None:
    func, args, kwargs = normalize_callable(partial(partial(module_function, 1), 2), (), {})
    assert func is module_function
    assert args == (1, 2)


def test_normalize_bound_method() -> None:
    service = Service()
    func, args, kwargs = normalize_callable(service.method, (5,), {})
    assert func is Service.method
    assert args == (service, 5)
    assert callable_to_ref(func) == f"{MODULE}:Service.method"
    assert func(*args, **kwargs) == 5


def test_normalize_partial_of_bound_method() -> None:
    service = Service()
    func, args, kwargs = normalize_callable(partial(service.method, x=3), (), None)
    assert func is Service.method
    assert args == (service,)
    assert kwargs == {"x": 3}


def test_normalize_bound_builtin_method() -> None:
    items: list[int] = []
    func, args, kwargs = normalize_callable(items.append, (1,), {})
    assert func is list.append
    assert args[0] is items
    assert callable_to_ref(func) == "builtins:list.append"
    func(*args, **kwargs)
    assert items == [1]


@pytest.mark.parametrize(
    "func", [module_function, Service.create, Service.helper, print, datetime.now]
)
def test_normalize_leaves_referenceable_callables_alone(func: Callable[..., Any]) -> None:
    assert normalize_callable(func, (1,), {"a": 2}) == (func, (1,), {"a": 2})
