//! Python payloads of `Engine.scan`: read into a [`Tape`], and written back with the walk's changes.
//!
//! Reading is pass 1 of a scan (types and limits, in the order and with the messages of
//! `mcp_pii/traverse.py`'s `check`). It borrows each string's UTF-8 text from its Python object
//! (no copy) and holds a reference to every value, so the walk can run with the interpreter
//! released, and the result is made of what was read even if another thread changes the
//! payload meanwhile.
//!
//! Writing copies only what changed: a masked string is a new `str`, a container is a new
//! `dict` or `list` only when something inside it changed, and every other value is the input's
//! own object. So the result shares unchanged sub-objects with the input (as the Python twin's
//! does). What JSON has no type for is written as the JSON type even when unchanged, as a
//! serialisation round trip would give it: a tuple becomes a list, and subclasses of `dict`,
//! `list`, `str`, `int` (up to 64 bits) and `float` become the plain types.

use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::binding::{map_error, surrogate_index, type_name, InputError};
use crate::traverse::{pointer, Budget, Change, Kind, Node, Step, Tape, TAPE_ROOM};

/// One value as read: the object (not for a string: its text on the tape holds it), the index
/// after its subtree, and whether the subtree may be returned as it is when nothing in it changed.
struct Held<'py> {
    obj: Option<Bound<'py, PyAny>>,
    end: usize,
    as_is: bool,
}

/// A payload read for a scan: the tape the walk reads and, when the result is written, the values.
pub struct Payload<'py> {
    /// The flattened payload; its texts borrow from the Python strings.
    pub tape: Tape<PyBackedStr>,
    held: Vec<Held<'py>>,
}

/// A step of the path being read, for error messages: a key (by text index) or an array index.
#[derive(Clone, Copy)]
enum At {
    Key(usize),
    Index(usize),
}

struct Reader<'b, 'c, 'py> {
    p: Payload<'py>,
    budget: &'b mut Budget<'c>,
    /// Whether the values are kept for writing the result.
    hold: bool,
    path: Vec<At>,
    /// Keys read so far, by the address of their `str` object: the tape text of each, one per
    /// slot ([`Reader::key_text`]).
    keys: [Option<(usize, usize)>; KEY_SLOTS],
}

/// Slots of the reader's table of keys (a power of two).
const KEY_SLOTS: usize = 64;

/// Read `data` for a scan, counting it in `budget`; keep the values when the result will be
/// written (`hold`).
///
/// Errors are those of pass 1: a limit (`LimitError`), or a value JSON has no place for, a
/// non-string key, a lone surrogate or a non-finite float (`InputError`, naming the pointer).
pub fn read<'py>(data: &Bound<'py, PyAny>, budget: &mut Budget<'_>, hold: bool) -> PyResult<Payload<'py>> {
    let p = Payload {
        tape: Tape::with_capacity(TAPE_ROOM),
        held: Vec::with_capacity(if hold { TAPE_ROOM } else { 0 }),
    };
    let mut r = Reader { p, budget, hold, path: Vec::new(), keys: [None; KEY_SLOTS] };
    r.value(data.clone(), None, 0)?;
    Ok(r.p)
}

impl<'py> Reader<'_, '_, 'py> {
    /// The pointer of the value being read.
    fn pointer(&self) -> String {
        let texts = &self.p.tape.texts;
        let steps: Vec<Step<'_>> = self
            .path
            .iter()
            .map(|at| match *at {
                At::Key(t) => Step::Key(&texts[t]),
                At::Index(i) => Step::Index(i),
            })
            .collect();
        pointer(&steps)
    }

    /// The tape text of key `k`: the one read for the same `str` object earlier in the payload
    /// when the table still has it, else a new one. A payload's keys are mostly a few objects met
    /// in every record (what `json.loads` and literals give), and a new text for each cost a
    /// lookup of its UTF-8, a reference taken and dropped, and a slot of the tape. The tape holds
    /// the object of every text it has, so no other object can have its address while it is read.
    fn key_text(&mut self, k: Bound<'py, PyString>) -> PyResult<usize> {
        let address = k.as_ptr() as usize;
        let mixed = ((address >> 4) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let slot = (mixed >> (64 - KEY_SLOTS.ilog2())) as usize;
        if let Some((seen, text)) = self.keys[slot] {
            if seen == address {
                return Ok(text);
            }
        }
        let Ok(backed) = PyBackedStr::try_from(k) else {
            return Err(InputError::new_err(format!(
                "object at '{}' has a key with a lone surrogate; send valid Unicode",
                self.pointer()
            )));
        };
        let text = self.p.tape.text(backed);
        self.keys[slot] = Some((address, text));
        Ok(text)
    }

    /// Read one value (pre-order: the node, then its items or members); return whether it may
    /// be returned as it is. Takes the reference the iteration gave: a string's text or the
    /// held value keeps it, so no value costs a reference taken and dropped.
    fn value(&mut self, obj: Bound<'py, PyAny>, key: Option<usize>, depth: usize) -> PyResult<bool> {
        self.budget.enter(depth).map_err(map_error)?;
        let i = self.p.tape.push(key, Kind::Scalar);
        if self.hold {
            self.p.held.push(Held { obj: None, end: 0, as_is: true });
        }
        let (kind, as_is, obj) = self.kind(obj, depth)?;
        self.p.tape.nodes[i].kind = kind;
        if self.hold {
            let end = self.p.tape.nodes.len();
            let held = &mut self.p.held[i];
            held.end = end;
            held.as_is = as_is;
            held.obj = obj;
        }
        Ok(as_is)
    }

    /// What `obj` is (reading its items or members), whether it may be returned as it is, and
    /// the object to hold for writing: none for a string (its text on the tape holds it).
    fn kind(
        &mut self,
        obj: Bound<'py, PyAny>,
        depth: usize,
    ) -> PyResult<(Kind, bool, Option<Bound<'py, PyAny>>)> {
        let (json, plain) = json_type(&obj);
        let (kind, as_is) = match json {
            Json::String => return Ok((self.text(obj.cast_into::<PyString>()?)?, plain, None)),
            Json::Object => {
                let d = obj.cast::<PyDict>()?;
                let mut as_is = plain;
                for (k, v) in d.iter() {
                    let k = k.cast_into::<PyString>().map_err(|e| {
                        InputError::new_err(format!(
                            "object at '{}' has a key of type '{}'; keys must be strings",
                            self.pointer(),
                            type_name(&e.into_inner())
                        ))
                    })?;
                    as_is &= k.is_exact_instance_of::<PyString>();
                    let k = self.key_text(k)?;
                    self.path.push(At::Key(k));
                    as_is &= self.value(v, Some(k), depth + 1)?;
                    self.path.pop();
                }
                (Kind::Object(d.len()), as_is)
            }
            Json::Array if plain => {
                let list = obj.cast::<PyList>()?;
                let mut as_is = true;
                for (n, v) in list.iter().enumerate() {
                    self.path.push(At::Index(n));
                    as_is &= self.value(v, None, depth + 1)?;
                    self.path.pop();
                }
                (Kind::Array(list.len()), as_is)
            }
            Json::Array => {
                let mut n = 0;
                for v in obj.try_iter()? {
                    self.path.push(At::Index(n));
                    self.value(v?, None, depth + 1)?;
                    self.path.pop();
                    n += 1;
                }
                (Kind::Array(n), false)
            }
            Json::Literal => (Kind::Scalar, true),
            Json::Integer => match obj.extract::<i64>() {
                Ok(n) => (Kind::Int(n), plain),
                Err(_) => match obj.extract::<u64>() {
                    Ok(n) => (Kind::UInt(n), plain),
                    // Past 64 bits: never scanned, returned as it is (no decimal form needed).
                    Err(_) => (Kind::Scalar, true),
                },
            },
            Json::Float => {
                if !obj.cast::<PyFloat>()?.value().is_finite() {
                    return Err(InputError::new_err(format!(
                        "number at '{}' is not finite; JSON has no NaN or Infinity",
                        self.pointer()
                    )));
                }
                (Kind::Scalar, plain)
            }
            Json::Other => {
                return Err(InputError::new_err(format!(
                    "value at '{}' has type '{}'; send JSON values only (objects, arrays, strings, numbers, booleans, null)",
                    self.pointer(),
                    type_name(&obj)
                )))
            }
        };
        // A second reference to a value not kept would cost an increment now and a decrement
        // when the payload is dropped (both calls into the interpreter with the stable ABI).
        Ok((kind, as_is, self.hold.then_some(obj)))
    }

    /// A string's node kind: its text on the tape, which keeps the reference the iteration gave.
    fn text(&mut self, s: Bound<'py, PyString>) -> PyResult<Kind> {
        if s.to_str().is_err() {
            return Err(InputError::new_err(format!(
                "string at '{}' has a lone surrogate at index {}; send valid Unicode",
                self.pointer(),
                surrogate_index(&s)
            )));
        }
        // The text was just read, so this cannot fail.
        let text = PyBackedStr::try_from(s)?;
        self.budget.string(text.len()).map_err(map_error)?;
        Ok(Kind::Text(self.p.tape.text(text)))
    }
}

/// The JSON type of a Python value.
enum Json {
    String,
    Object,
    /// A list or tuple.
    Array,
    /// None, True or False.
    Literal,
    Integer,
    Float,
    /// Anything else.
    Other,
}

/// The JSON type of `obj`, and whether `obj` is of the plain Python type for it (`str`, `dict`,
/// `list`, `int`, `float`; None and booleans are): not a subclass, nor a tuple.
fn json_type(obj: &Bound<'_, PyAny>) -> (Json, bool) {
    // The plain types first: nearly every value is one, and their test is a pointer comparison.
    if obj.is_exact_instance_of::<PyString>() {
        (Json::String, true)
    } else if obj.is_exact_instance_of::<PyDict>() {
        (Json::Object, true)
    } else if obj.is_exact_instance_of::<PyList>() {
        (Json::Array, true)
    } else if obj.is_none() || obj.is_exact_instance_of::<PyBool>() {
        (Json::Literal, true)
    } else if obj.is_exact_instance_of::<PyInt>() {
        (Json::Integer, true)
    } else if obj.is_exact_instance_of::<PyFloat>() {
        (Json::Float, true)
    } else if obj.is_instance_of::<PyString>() {
        (Json::String, false)
    } else if obj.is_instance_of::<PyDict>() {
        (Json::Object, false)
    } else if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        (Json::Array, false)
    } else if obj.is_instance_of::<PyInt>() {
        (Json::Integer, false)
    } else if obj.is_instance_of::<PyFloat>() {
        (Json::Float, false)
    } else {
        (Json::Other, false)
    }
}

impl<'py> Payload<'py> {
    /// The scanned payload: the input with `changes` (ascending, from the walk) written in.
    ///
    /// Needs a payload read with `hold`. Consumes it: a value returned as it is takes the
    /// reference the read took, so it costs no reference taken now and dropped with the payload.
    pub fn write(self, py: Python<'py>, changes: &[Change]) -> PyResult<Bound<'py, PyAny>> {
        let Tape { nodes, texts } = self.tape;
        let texts = texts.into_iter().map(Some).collect();
        let mut w = Writer { nodes: &nodes, texts, held: self.held, changes, next: 0 };
        Ok(w.node(py, 0)?.0)
    }
}

struct Writer<'a, 'py> {
    nodes: &'a [Node],
    /// The texts read; a string's is taken when the string is returned as it is (keys' are not,
    /// a key's text serving every member with that key object).
    texts: Vec<Option<PyBackedStr>>,
    /// The values read; a value's object is taken when it is returned as it is.
    held: Vec<Held<'py>>,
    changes: &'a [Change],
    /// The first change not written yet.
    next: usize,
}

impl<'py> Writer<'_, 'py> {
    /// The text at `t`, not taken yet (every text is read at most once when not a key's).
    fn text(&self, t: usize) -> &PyBackedStr {
        self.texts[t].as_ref().expect("a text is taken only by its own string's node")
    }

    /// The value of the node at `i`, and the index after its subtree.
    fn node(&mut self, py: Python<'py>, i: usize) -> PyResult<(Bound<'py, PyAny>, usize)> {
        let (end, as_is) = (self.held[i].end, self.held[i].as_is);
        let kind = self.nodes[i].kind;
        let changed = self.changes.get(self.next).filter(|(at, _)| *at < end);
        if as_is && changed.is_none() {
            let obj = match (self.held[i].obj.take(), kind) {
                (Some(obj), _) => obj,
                (None, Kind::Text(t)) => {
                    let text = self.texts[t].take().expect("a string's text is taken once, by its node");
                    text.into_pyobject(py)?.into_any()
                }
                (None, _) => unreachable!("only strings are held by their text"),
            };
            return Ok((obj, end));
        }
        if let Some((_, text)) = changed.filter(|(at, _)| *at == i) {
            self.next += 1;
            return Ok((PyString::new(py, text).into_any(), end));
        }
        let out = match kind {
            Kind::Text(t) => PyString::new(py, self.text(t)).into_any(),
            Kind::Int(n) => n.into_pyobject(py)?.into_any(),
            Kind::UInt(n) => n.into_pyobject(py)?.into_any(),
            Kind::Scalar => match self.held[i].obj.take() {
                Some(obj) => match obj.cast::<PyFloat>().map(|f| f.value()) {
                    Ok(f) => PyFloat::new(py, f).into_any(),
                    Err(_) => obj,
                },
                None => unreachable!("a scalar is held by its object"),
            },
            Kind::Array(n) => {
                let mut items = Vec::with_capacity(n);
                let mut j = i + 1;
                for _ in 0..n {
                    let (item, next) = self.node(py, j)?;
                    items.push(item);
                    j = next;
                }
                PyList::new(py, items)?.into_any()
            }
            Kind::Object(n) => {
                let dict = PyDict::new(py);
                let mut j = i + 1;
                for _ in 0..n {
                    let (value, next) = self.node(py, j)?;
                    // The key's own object when it is a plain `str`, lent: a reference taken
                    // for the call and dropped after it cost two calls into the interpreter.
                    let text = self.nodes[j].key.map(|k| self.text(k));
                    let made;
                    let key = match text {
                        Some(k) if k.as_py_str().bind(py).is_exact_instance_of::<PyString>() => {
                            k.as_py_str().bind(py)
                        }
                        _ => {
                            made = PyString::new(py, text.map_or("", |k| &**k));
                            &made
                        }
                    };
                    dict.set_item(key, value)?;
                    j = next;
                }
                dict.into_any()
            }
        };
        Ok((out, end))
    }
}
