//! The result objects `Detection`, `NestedDetection` and `MaskResult`, made by the binding itself.
//!
//! They are the classes of `mcp_pii.detection` when the extension loads; without it the same
//! names are plain slots dataclasses (defined there), which these behave as: the same
//! constructor, fields (readable and writable), equality, hash (none for `MaskResult`, as its
//! dataclass), repr and pickling, and `mcp_pii.detection` gives them the dataclass's
//! `__dataclass_fields__`, so that `dataclasses.asdict`, `replace` and `fields` take them too. A
//! Python `__init__` costs about 140 ns an object and made most of a short call's time outside
//! the engine; an object made here costs a few tens of ns.
//!
//! Called with no arguments at all, the constructor makes a blank object (its fields None), as
//! `object.__new__` does for a dataclass: pydantic (and with it FastAPI) makes a dataclass that
//! way and then sets its fields. Two differences, both outside the documented use: `Detection()`
//! is that blank object where the dataclass raises `TypeError`, and `rule=None` (or
//! `embedded=None`) is read as the default, where the dataclass would keep `None`.

use pyo3::basic::CompareOp;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyString, PyTuple};

/// The required fields of a constructor call: all given, or none (a blank object, fields None:
/// see the module's notes). Some but not all is a `TypeError` naming the missing ones.
fn required<const N: usize>(
    py: Python<'_>,
    class: &str,
    names: &[&str],
    given: [Option<Py<PyAny>>; N],
) -> PyResult<[Py<PyAny>; N]> {
    if given.iter().all(Option::is_none) {
        return Ok(std::array::from_fn(|_| py.None()));
    }
    let missing: Vec<String> =
        names.iter().zip(&given).filter(|(_, v)| v.is_none()).map(|(n, _)| format!("'{n}'")).collect();
    if !missing.is_empty() {
        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "{class}() missing {} required argument(s): {}",
            missing.len(),
            missing.join(", ")
        )));
    }
    Ok(given.map(|v| v.unwrap_or_else(|| py.None())))
}

/// `(type(obj), (fields...))` for pickling and copying.
fn reduced<'py>(obj: &Bound<'py, PyAny>, fields: &[&Py<PyAny>]) -> PyResult<Bound<'py, PyTuple>> {
    let py = obj.py();
    let args = PyTuple::new(py, fields.iter().map(|f| f.bind(py)))?;
    PyTuple::new(py, [obj.get_type().into_any(), args.into_any()])
}

/// `Name(field=repr, ...)` with the name of `obj`'s class (as a dataclass's repr).
fn repr_of(obj: &Bound<'_, PyAny>, names: &[&str], fields: &[&Py<PyAny>]) -> PyResult<String> {
    let py = obj.py();
    let mut out = obj.get_type().qualname()?.to_string();
    out.push('(');
    for (i, (name, field)) in names.iter().zip(fields).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(name);
        out.push('=');
        out.push_str(field.bind(py).repr()?.to_str()?);
    }
    out.push(')');
    Ok(out)
}

/// Equality on the compared fields, for two objects of the same class (a dataclass's `__eq__`:
/// another class gives `NotImplemented`, and only `==` and `!=` are defined).
fn compared(
    this: &Bound<'_, PyAny>,
    other: &Bound<'_, PyAny>,
    op: CompareOp,
    key: impl for<'py> Fn(&Bound<'py, PyAny>) -> PyResult<Bound<'py, PyTuple>>,
) -> PyResult<Py<PyAny>> {
    let py = this.py();
    if !other.get_type().is(this.get_type()) || !matches!(op, CompareOp::Eq | CompareOp::Ne) {
        return Ok(py.NotImplemented());
    }
    let equal = key(this)?.eq(key(other)?)?;
    Ok(PyBool::new(py, equal == matches!(op, CompareOp::Eq)).to_owned().into_any().unbind())
}

/// `dataclasses.replace(obj, **changes)` (Python 3.13's `copy.replace` calls `__replace__`).
fn replaced<'py>(
    obj: &Bound<'py, PyAny>,
    changes: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    py.import(pyo3::intern!(py, "dataclasses"))?.getattr(pyo3::intern!(py, "replace"))?.call((obj,), changes)
}

/// The Python methods of a result class `$class` with fields `$names`: its constructor and its
/// `__hash__` (given as tokens), and what the classes share, a dataclass's `__match_args__`,
/// `__eq__` (and `__ne__`), `__repr__`, pickling (`__reduce__`) and `__replace__`. `$class` has
/// `fields()` (in the order of `$names`) and `key()` (the compared fields).
macro_rules! result_class {
    ($class:ident, $names:ident, hash { $($hash:tt)* }, $($constructor:tt)*) => {
        #[pymethods]
        impl $class {
            $($constructor)*

            $($hash)*

            #[classattr]
            fn __match_args__(py: Python<'_>) -> PyResult<Py<PyTuple>> {
                Ok(PyTuple::new(py, $names)?.unbind())
            }

            fn __richcmp__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
                compared(slf.as_any(), other, op, $class::key)
            }

            fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
                repr_of(slf.as_any(), &$names, &slf.borrow().fields())
            }

            fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
                reduced(slf.as_any(), &slf.borrow().fields())
            }

            #[pyo3(signature = (**changes))]
            fn __replace__<'py>(
                slf: &Bound<'py, Self>,
                changes: Option<&Bound<'py, PyDict>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                replaced(slf.as_any(), changes)
            }
        }
    };
}

/// One detected value: its type id, its span in the text (code-point offsets), the value and the
/// rule that found it. Two detections are equal when type, span and value are.
#[pyclass(module = "mcp_pii.detection", name = "Detection", subclass)]
pub struct Detection {
    #[pyo3(get, set, name = "type")]
    pub ty: Py<PyAny>,
    #[pyo3(get, set)]
    pub start: Py<PyAny>,
    #[pyo3(get, set)]
    pub end: Py<PyAny>,
    #[pyo3(get, set)]
    pub value: Py<PyAny>,
    #[pyo3(get, set)]
    pub rule: Py<PyAny>,
}

const DETECTION_FIELDS: [&str; 5] = ["type", "start", "end", "value", "rule"];

impl Detection {
    fn fields(&self) -> [&Py<PyAny>; 5] {
        [&self.ty, &self.start, &self.end, &self.value, &self.rule]
    }

    /// The fields that identify a detection (`rule` explains, it does not identify).
    fn key<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyTuple>> {
        let d = obj.cast::<Detection>()?.borrow();
        PyTuple::new(obj.py(), [&d.ty, &d.start, &d.end, &d.value])
    }
}

result_class! {
    Detection,
    DETECTION_FIELDS,
    hash {
        fn __hash__(slf: &Bound<'_, Self>) -> PyResult<isize> {
            Self::key(slf.as_any())?.hash()
        }
    },
    #[new]
    #[pyo3(signature = (r#type = None, start = None, end = None, value = None, rule = None))]
    fn new(
        py: Python<'_>,
        r#type: Option<Py<PyAny>>,
        start: Option<Py<PyAny>>,
        end: Option<Py<PyAny>>,
        value: Option<Py<PyAny>>,
        rule: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let [ty, start, end, value] = required(py, "Detection", &DETECTION_FIELDS, [r#type, start, end, value])?;
        let rule = rule.unwrap_or_else(|| PyString::intern(py, "").into_any().unbind());
        Ok(Detection { ty, start, end, value, rule })
    }
}

/// A detection inside a nested payload: `path` is the JSON Pointer of its string (or number),
/// `embedded` the pointers inside JSON held in strings (empty outside embedded JSON).
#[pyclass(module = "mcp_pii.detection", name = "NestedDetection", subclass)]
pub struct NestedDetection {
    #[pyo3(get, set)]
    pub path: Py<PyAny>,
    #[pyo3(get, set, name = "type")]
    pub ty: Py<PyAny>,
    #[pyo3(get, set)]
    pub start: Py<PyAny>,
    #[pyo3(get, set)]
    pub end: Py<PyAny>,
    #[pyo3(get, set)]
    pub value: Py<PyAny>,
    #[pyo3(get, set)]
    pub rule: Py<PyAny>,
    #[pyo3(get, set)]
    pub embedded: Py<PyAny>,
}

const NESTED_FIELDS: [&str; 7] = ["path", "type", "start", "end", "value", "rule", "embedded"];

impl NestedDetection {
    fn fields(&self) -> [&Py<PyAny>; 7] {
        [&self.path, &self.ty, &self.start, &self.end, &self.value, &self.rule, &self.embedded]
    }

    /// The fields that identify a detection: all but `rule`.
    fn key<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyTuple>> {
        let d = obj.cast::<NestedDetection>()?.borrow();
        PyTuple::new(obj.py(), [&d.path, &d.ty, &d.start, &d.end, &d.value, &d.embedded])
    }
}

result_class! {
    NestedDetection,
    NESTED_FIELDS,
    hash {
        fn __hash__(slf: &Bound<'_, Self>) -> PyResult<isize> {
            Self::key(slf.as_any())?.hash()
        }
    },
    #[new]
    #[pyo3(signature = (path = None, r#type = None, start = None, end = None, value = None, rule = None, embedded = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        path: Option<Py<PyAny>>,
        r#type: Option<Py<PyAny>>,
        start: Option<Py<PyAny>>,
        end: Option<Py<PyAny>>,
        value: Option<Py<PyAny>>,
        rule: Option<Py<PyAny>>,
        embedded: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let [path, ty, start, end, value] =
            required(py, "NestedDetection", &NESTED_FIELDS, [path, r#type, start, end, value])?;
        let rule = rule.unwrap_or_else(|| PyString::intern(py, "").into_any().unbind());
        let embedded = embedded.unwrap_or_else(|| PyTuple::empty(py).into_any().unbind());
        Ok(NestedDetection { path, ty, start, end, value, rule, embedded })
    }
}

/// The masked text and the detections of `Engine.mask` (`scope`: that of reversible masking,
/// None otherwise). Two results are equal when all three fields are; a result has no hash.
#[pyclass(module = "mcp_pii.detection", name = "MaskResult", subclass)]
pub struct MaskResult {
    #[pyo3(get, set)]
    pub text: Py<PyAny>,
    #[pyo3(get, set)]
    pub detections: Py<PyAny>,
    #[pyo3(get, set)]
    pub scope: Py<PyAny>,
}

const MASK_RESULT_FIELDS: [&str; 3] = ["text", "detections", "scope"];

impl MaskResult {
    fn fields(&self) -> [&Py<PyAny>; 3] {
        [&self.text, &self.detections, &self.scope]
    }

    fn key<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyTuple>> {
        let r = obj.cast::<MaskResult>()?.borrow();
        PyTuple::new(obj.py(), r.fields())
    }
}

result_class! {
    MaskResult,
    MASK_RESULT_FIELDS,
    // Its dataclass is mutable and compares by value, so it has no hash.
    hash {
        #[classattr]
        const __hash__: Option<Py<PyAny>> = None;
    },
    #[new]
    #[pyo3(signature = (text = None, detections = None, scope = None))]
    fn new(
        py: Python<'_>,
        text: Option<Py<PyAny>>,
        detections: Option<Py<PyAny>>,
        scope: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let [text, detections] = required(py, "MaskResult", &MASK_RESULT_FIELDS, [text, detections])?;
        Ok(MaskResult { text, detections, scope: scope.unwrap_or_else(|| py.None()) })
    }
}
