//! The sizes the server and the hooks take of a payload around a scan, each read in one walk of
//! its objects here instead of a Python call per value: on a megabyte of nested JSON the Python
//! walks took 5-9 ms each, a third of the scan itself. Each gives what its Python twin gives (the
//! tests compare them): `payload_size` as `mcp_pii.offload.plain_payload_size` and `weight` as
//! `mcp_pii.jsonout.plain_weight`, but for two kinds of subclass outside JSON: a dict's own
//! values are read (not what its class's `values` gives) and a string's characters are counted
//! (its class's `__len__` is not called). None recurses, so no depth of nesting overflows the
//! stack.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};

/// What a value is to a walk: a string, a container whose values are read in turn, or
/// anything else.
enum Seen<'py> {
    Text(Bound<'py, PyString>),
    Items(Items<'py>),
    Other,
}

/// The values of a dict (its own, not what a subclass's `values` gives) or a list, in order.
/// Nothing a walk does runs Python code (a string's length is read, not asked of its class) or
/// makes a container (whose allocation could start a collection, and a finalizer), so no dict it
/// reads can change size meanwhile.
enum Items<'py> {
    Dict(pyo3::types::iter::BoundDictIterator<'py>),
    List(pyo3::types::iter::BoundListIterator<'py>),
}

impl<'py> Items<'py> {
    fn len(&self) -> usize {
        match self {
            Items::Dict(d) => d.len(),
            Items::List(l) => l.len(),
        }
    }
}

impl<'py> Iterator for Items<'py> {
    type Item = Bound<'py, PyAny>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Items::Dict(d) => d.next().map(|(_, v)| v),
            Items::List(l) => l.next(),
        }
    }
}

/// `value` as a walk sees it: dicts (their values) and lists are read in.
fn seen<'py>(value: &Bound<'py, PyAny>) -> Seen<'py> {
    if let Ok(s) = value.cast::<PyString>() {
        Seen::Text(s.clone())
    } else if let Ok(d) = value.cast::<PyDict>() {
        Seen::Items(Items::Dict(d.iter()))
    } else if let Ok(l) = value.cast::<PyList>() {
        Seen::Items(Items::List(l.iter()))
    } else {
        Seen::Other
    }
}

/// The characters of a string: a plain `str` knows them; a subclass's are what `str.__len__`
/// gives (its own `__len__`, whatever it does, is not called; its text is not decoded, so a lone
/// surrogate counts one, as in `len`).
fn chars(s: &Bound<'_, PyString>) -> PyResult<usize> {
    if s.is_exact_instance_of::<PyString>() {
        s.len()
    } else {
        s.py().get_type::<PyString>().call_method1("__len__", (s,))?.extract()
    }
}

/// `mcp_pii.offload.plain_payload_size`: the characters of a payload's strings and 8 for every
/// other value (a container's before its values), added up in pre-order; done once the sum
/// reaches `budget` after a value inside a container (the Python twin checks there, when the
/// value's own call returns, and every level then stops).
#[pyfunction]
pub fn payload_size(data: &Bound<'_, PyAny>, budget: usize) -> PyResult<usize> {
    let mut sum = 0usize;
    // The containers being read.
    let mut open: Vec<Items<'_>> = Vec::new();
    let mut next = Some(data.clone());
    loop {
        if let Some(value) = next.take() {
            let s = seen(&value);
            sum = sum.saturating_add(if let Seen::Text(text) = &s { chars(text)? } else { 8 });
            if let Seen::Items(items) = s {
                open.push(items);
            } else if open.is_empty() || sum >= budget {
                return Ok(sum);
            }
        }
        let Some(items) = open.last_mut() else { return Ok(sum) };
        if let Some(item) = items.next() {
            next = Some(item);
        } else {
            open.pop();
            if open.is_empty() || sum >= budget {
                return Ok(sum);
            }
        }
    }
}

/// `mcp_pii.jsonout.plain_weight`: the values of `value` (a string one more per 4 KiB), counted
/// up to `budget`; a container holding `budget` values or more is `budget` at once. Values are
/// taken from a stack (a container's pushed in order, the last taken first), as there.
#[pyfunction]
pub fn weight(value: &Bound<'_, PyAny>, budget: usize) -> PyResult<usize> {
    let mut stack = vec![value.clone()];
    let mut n = 0usize;
    while n < budget {
        let Some(x) = stack.pop() else { break };
        n += 1;
        match seen(&x) {
            Seen::Items(items) => {
                if items.len() >= budget {
                    return Ok(budget);
                }
                stack.extend(items);
            }
            Seen::Text(s) => n += chars(&s)? >> 12,
            Seen::Other => {}
        }
    }
    Ok(n)
}
