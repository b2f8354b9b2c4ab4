//! mcp-pii's detection engine: a pure Rust core and, behind the `python` feature, its PyO3 binding.
//!
//! The core modules (`catalog`, `validate`, `detect`, `mask`, `traverse`, `engine`) never touch
//! Python; the binding below only converts arguments and results, maps errors and releases the
//! interpreter while the core works.
//!
//! # Example
//! ```
//! use _native::engine::Engine;
//!
//! // The default configuration: every built-in type, masked with its label.
//! let engine = Engine::from_json("{}").unwrap();
//! let (masked, hits) = engine.mask("Call 555-123-4567 or mail jane@example.com", None, None).unwrap();
//! assert_eq!(masked, "Call [PHONE] or mail [EMAIL]");
//! assert_eq!(hits.len(), 2);
//! ```
//!
//! The crate has no `unsafe` code of its own (`forbid(unsafe_code)` covers the binding too; the
//! unsafe code that PyO3's macros expand to is theirs).

#![forbid(unsafe_code)]

pub mod catalog;
pub mod detect;
pub mod embedded;
pub mod engine;
pub mod error;
pub mod hash;
pub mod kept;
pub mod mask;
#[cfg(feature = "python")]
mod measure;
#[cfg(feature = "python")]
mod objects;
#[cfg(feature = "python")]
mod payload;
pub mod prefilter;
pub mod scan;
pub mod split;
pub mod traverse;
pub mod validate;

#[cfg(feature = "python")]
mod binding {
    use std::borrow::Cow;
    use std::cell::Cell;
    use std::panic::{self, AssertUnwindSafe};
    use std::sync::Once;

    use pyo3::prelude::*;
    use pyo3::types::{PyDict, PyList, PyString, PyTuple};

    use crate::engine;
    use crate::error::Error;
    use crate::mask::Assigned;
    use crate::objects::{Detection, MaskResult, NestedDetection};
    use crate::traverse::{Budget, Found};

    use crate::payload;

    pyo3::import_exception!(mcp_pii.errors, InputError);
    pyo3::import_exception!(mcp_pii.errors, LimitError);
    pyo3::import_exception!(mcp_pii.errors, ConfigError);
    pyo3::import_exception!(mcp_pii.errors, InternalError);

    /// Map a core error to the Python exception of the same meaning.
    pub(crate) fn map_error(e: Error) -> PyErr {
        match e {
            Error::Input(m) => InputError::new_err(m),
            Error::Limit(m) => LimitError::new_err(m),
            Error::Config(m) => ConfigError::new_err(m),
        }
    }

    thread_local! {
        static IN_ENGINE: Cell<bool> = const { Cell::new(false) };
    }
    static HOOK: Once = Once::new();

    /// Replace the panic message of engine calls (which could quote input text) with a fixed one.
    fn install_panic_hook() {
        HOOK.call_once(|| {
            let previous = panic::take_hook();
            panic::set_hook(Box::new(move |info| {
                if IN_ENGINE.with(Cell::get) {
                    let at =
                        info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
                    eprintln!("mcp-pii: internal error in the Rust engine{at}; the input was not processed");
                } else {
                    previous(info);
                }
            }));
        });
    }

    /// Run core work; a panic becomes `InternalError` instead of unwinding into the interpreter.
    fn guarded<T>(work: impl FnOnce() -> Result<T, Error>) -> PyResult<T> {
        IN_ENGINE.with(|f| f.set(true));
        let out = panic::catch_unwind(AssertUnwindSafe(work));
        IN_ENGINE.with(|f| f.set(false));
        match out {
            Ok(r) => r.map_err(map_error),
            Err(_) => Err(InternalError::new_err(
                "internal error in the Rust engine; the input was not processed (please report this bug)",
            )),
        }
    }

    pub(crate) fn type_name(obj: &Bound<'_, PyAny>) -> String {
        obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "object".to_owned())
    }

    /// The index of the first lone surrogate, as Python's UTF-8 encoder reports it.
    pub(crate) fn surrogate_index(s: &Bound<'_, PyString>) -> usize {
        match s.call_method1("encode", ("utf-8",)) {
            Err(e) => e.value(s.py()).getattr("start").and_then(|v| v.extract()).unwrap_or(0),
            Ok(_) => 0,
        }
    }

    fn text_arg<'a>(text: &'a Bound<'_, PyAny>) -> PyResult<&'a str> {
        let s = text
            .cast::<PyString>()
            .map_err(|_| InputError::new_err(format!("text must be a string, not '{}'", type_name(text))))?;
        s.to_str().map_err(|_| {
            InputError::new_err(format!(
                "text has a lone surrogate at index {}; send valid Unicode",
                surrogate_index(s)
            ))
        })
    }

    fn types_arg(types: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<String>>> {
        let Some(types) = types.filter(|t| !t.is_none()) else {
            return Ok(None);
        };
        let list =
            types.cast::<PyList>().map_err(|_| InputError::new_err("types must be a list of type ids"))?;
        Ok(Some(
            list.iter()
                .map(|x| {
                    x.cast::<PyString>()
                        .ok()
                        .and_then(|s| s.to_str().ok().map(str::to_owned))
                        .unwrap_or_default()
                })
                .collect(),
        ))
    }

    /// A strategy argument; a non-string becomes "" so that the core rejects it like an unknown name.
    fn strategy_arg(strategy: Option<&Bound<'_, PyAny>>) -> Option<String> {
        let strategy = strategy.filter(|s| !s.is_none())?;
        Some(
            strategy
                .cast::<PyString>()
                .ok()
                .and_then(|s| s.to_str().ok().map(str::to_owned))
                .unwrap_or_default(),
        )
    }

    fn as_refs(types: &Option<Vec<String>>) -> Option<Vec<&str>> {
        types.as_ref().map(|v| v.iter().map(String::as_str).collect())
    }

    /// Texts shorter than this are scanned without letting go of the interpreter: releasing it
    /// and taking it back costs a good part of scanning them (a 1 KB text takes a few µs).
    const DETACH_MIN: usize = 4096;

    /// Run core work on `len` bytes with the interpreter released, unless the input is small.
    fn detached<T: Send>(py: Python<'_>, len: usize, work: impl FnOnce() -> T + Send) -> T {
        if len < DETACH_MIN {
            work()
        } else {
            py.detach(work)
        }
    }

    /// Payloads of at least this many values have their result written with Python's cyclic
    /// garbage collector paused (see [`CollectorPaused`]).
    const PAUSE_NODES: usize = 256;

    /// Python's cyclic garbage collector, paused while a guard lives (when it was running).
    ///
    /// Writing a masked payload makes thousands of new dicts and lists at once; up to Python 3.11
    /// each few hundred trigger a collection then and there, which traverses them (and now and
    /// then the whole heap, the payload included) and can free nothing of the result: nothing
    /// else refers to it yet. (From 3.12 the interpreter collects at the next bytecode, once,
    /// after the write; the pause then costs a few calls and changes nothing.) The facade pauses
    /// it the same way while it builds the detection objects (`mcp_pii.engine._built`), where the
    /// process-wide caveat is written down.
    struct CollectorPaused<'py>(Option<Bound<'py, PyModule>>);

    impl<'py> CollectorPaused<'py> {
        /// Pause the collector if `pause` and it runs. Never fails: a collector that could not be
        /// paused costs time, never a result.
        fn new(py: Python<'py>, pause: bool) -> Self {
            let paused = || -> PyResult<Option<Bound<'py, PyModule>>> {
                let gc = py.import(pyo3::intern!(py, "gc"))?;
                if !gc.call_method0(pyo3::intern!(py, "isenabled"))?.is_truthy()? {
                    return Ok(None);
                }
                gc.call_method0(pyo3::intern!(py, "disable"))?;
                Ok(Some(gc))
            };
            CollectorPaused(if pause { paused().ok().flatten() } else { None })
        }
    }

    impl Drop for CollectorPaused<'_> {
        fn drop(&mut self) {
            if let Some(gc) = &self.0 {
                // `gc.enable()` cannot fail; were it to, the collector would stay paused, which
                // costs memory, never a result.
                let _ = gc.call_method0(pyo3::intern!(gc.py(), "enable"));
            }
        }
    }

    /// A compiled configuration (the Rust twin of `mcp_pii.pyengine.PyEngine`).
    #[pyclass(frozen, module = "mcp_pii._native", name = "Engine")]
    struct PyEngine {
        inner: engine::Engine,
        ids: Vec<Py<PyString>>,
        /// Per type, the names of its patterns and, last, of its labelled-key rule.
        rules: Vec<Vec<Py<PyString>>>,
    }

    impl PyEngine {
        fn rule(&self, py: Python<'_>, ty: usize, rule: usize) -> Py<PyString> {
            let names = &self.rules[ty];
            names[rule.min(names.len() - 1)].clone_ref(py)
        }

        /// Detections in a text as `Detection` objects (a large result made with the collector
        /// paused, see [`CollectorPaused`]).
        fn hit_objects<'py>(
            &self,
            py: Python<'py>,
            text: &str,
            hits: &[engine::Hit],
        ) -> PyResult<Bound<'py, PyList>> {
            let _paused = CollectorPaused::new(py, hits.len() >= PAUSE_NODES);
            let made: PyResult<Vec<Bound<'py, Detection>>> = hits
                .iter()
                .map(|h| {
                    let detection = Detection {
                        ty: self.ids[h.ty].clone_ref(py).into_any(),
                        start: h.start.into_pyobject(py)?.into_any().unbind(),
                        end: h.end.into_pyobject(py)?.into_any().unbind(),
                        value: PyString::new(py, &text[h.bytes.0..h.bytes.1]).into_any().unbind(),
                        rule: self.rule(py, h.ty, h.rule).into_any(),
                    };
                    Bound::new(py, detection)
                })
                .collect();
            PyList::new(py, made?)
        }

        /// Detections in a payload as `NestedDetection` objects (the caller pauses the collector
        /// for a large result). One `str` for the pointer of detections in the same string.
        fn found_objects<'py>(&self, py: Python<'py>, found: Vec<Found>) -> PyResult<Bound<'py, PyList>> {
            let mut made = Vec::with_capacity(found.len());
            let mut last: Option<(String, Bound<'py, PyString>)> = None;
            for f in found {
                let path = match &last {
                    Some((text, obj)) if *text == f.path => obj.clone(),
                    _ => {
                        let obj = PyString::new(py, &f.path);
                        last = Some((f.path, obj.clone()));
                        obj
                    }
                };
                let embedded =
                    if f.embedded.is_empty() { PyTuple::empty(py) } else { PyTuple::new(py, f.embedded)? };
                let detection = NestedDetection {
                    path: path.into_any().unbind(),
                    ty: self.ids[f.ty].clone_ref(py).into_any(),
                    start: f.start.into_pyobject(py)?.into_any().unbind(),
                    end: f.end.into_pyobject(py)?.into_any().unbind(),
                    value: f.value.into_pyobject(py)?.into_any().unbind(),
                    rule: self.rule(py, f.ty, f.rule).into_any(),
                    embedded: embedded.into_any().unbind(),
                };
                made.push(Bound::new(py, detection)?);
            }
            PyList::new(py, made)
        }

        /// The masked text of `original` (the caller's own `str` when nothing was found: no copy),
        /// its text, and the detections: the work `mask` and `mask_counts` share.
        fn masked<'t>(
            &self,
            py: Python<'_>,
            original: &'t Bound<'_, PyAny>,
            strategy: Option<&Bound<'_, PyAny>>,
            types: Option<&Bound<'_, PyAny>>,
            assigned: Option<Assigned>,
        ) -> PyResult<(Py<PyAny>, &'t str, Vec<engine::Hit>)> {
            let text = text_arg(original)?;
            let strategy = strategy_arg(strategy);
            let strategy = strategy.as_deref();
            let types = types_arg(types)?;
            let types = as_refs(&types);
            let (masked, hits) = detached(py, text.len(), move || {
                guarded(|| match &assigned {
                    Some(assigned) => self.inner.mask_assigned(text, types.as_deref(), assigned),
                    None => self.inner.mask(text, strategy, types.as_deref()),
                })
            })?;
            let masked = match masked {
                Cow::Borrowed(_) => original.clone().unbind(),
                Cow::Owned(masked) => PyString::new(py, &masked).into_any().unbind(),
            };
            Ok((masked, text, hits))
        }

        /// Pre-assigned tokens: a dict of type id to a dict of value to token text.
        fn tokens_arg(&self, tokens: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Assigned>> {
            let Some(tokens) = tokens.filter(|t| !t.is_none()) else {
                return Ok(None);
            };
            let shape = || InputError::new_err("tokens must map type ids to dicts of value to token text");
            let text = |obj: &Bound<'_, PyAny>| -> PyResult<String> {
                Ok(obj.cast::<PyString>().map_err(|_| shape())?.to_str().map_err(|_| shape())?.to_owned())
            };
            let mut assigned = Assigned::default();
            for (id, values) in tokens.cast::<PyDict>().map_err(|_| shape())?.iter() {
                let id = text(&id)?;
                let ty = *self.inner.compiled().index.get(&id).ok_or_else(|| {
                    InputError::new_err(format!(
                        "unknown PII type in tokens; enabled types are: {}",
                        self.inner.type_ids().join(", ")
                    ))
                })?;
                for (value, token) in values.cast::<PyDict>().map_err(|_| shape())?.iter() {
                    assigned.insert(ty, text(&value)?, text(&token)?);
                }
            }
            Ok(Some(assigned))
        }
    }

    #[pymethods]
    impl PyEngine {
        #[new]
        fn new(py: Python<'_>, config_json: &str) -> PyResult<Self> {
            install_panic_hook();
            let inner = guarded(|| engine::Engine::from_json(config_json))?;
            let ids = inner.type_ids().iter().map(|id| PyString::intern(py, id).unbind()).collect();
            let rules = inner
                .compiled()
                .types
                .iter()
                .map(|t| {
                    (0..=t.patterns.len()).map(|i| PyString::intern(py, t.rule_name(i)).unbind()).collect()
                })
                .collect();
            Ok(PyEngine { inner, ids, rules })
        }

        fn type_ids(&self) -> Vec<String> {
            self.inner.type_ids().into_iter().map(str::to_owned).collect()
        }

        #[pyo3(signature = (text, types=None))]
        fn detect<'py>(
            &self,
            py: Python<'py>,
            text: &Bound<'_, PyAny>,
            types: Option<&Bound<'_, PyAny>>,
        ) -> PyResult<Bound<'py, PyList>> {
            let text = text_arg(text)?;
            let types = types_arg(types)?;
            let hits =
                detached(py, text.len(), || guarded(|| self.inner.detect(text, as_refs(&types).as_deref())))?;
            self.hit_objects(py, text, &hits)
        }

        #[pyo3(signature = (text, strategy=None, types=None, tokens=None))]
        fn mask<'py>(
            &self,
            py: Python<'py>,
            text: &Bound<'_, PyAny>,
            strategy: Option<&Bound<'_, PyAny>>,
            types: Option<&Bound<'_, PyAny>>,
            tokens: Option<&Bound<'_, PyAny>>,
        ) -> PyResult<(Py<PyAny>, Bound<'py, PyList>)> {
            let assigned = self.tokens_arg(tokens)?;
            let (masked, text, hits) = self.masked(py, text, strategy, types, assigned)?;
            Ok((masked, self.hit_objects(py, text, &hits)?))
        }

        /// `mask` as the `MaskResult` that `Engine.mask` returns (made here: a Python `__init__`
        /// was a tenth of a 1 KB call).
        #[pyo3(signature = (text, strategy=None, types=None))]
        fn mask_result<'py>(
            &self,
            py: Python<'py>,
            text: &Bound<'_, PyAny>,
            strategy: Option<&Bound<'_, PyAny>>,
            types: Option<&Bound<'_, PyAny>>,
        ) -> PyResult<Bound<'py, MaskResult>> {
            let (masked, text, hits) = self.masked(py, text, strategy, types, None)?;
            let detections = self.hit_objects(py, text, &hits)?.into_any().unbind();
            Bound::new(py, MaskResult { text: masked, detections, scope: py.None() })
        }

        /// `mask` without the detection objects: the masked text and the count of detections
        /// per type id, in order of first appearance (what a caller reporting counts needs).
        #[pyo3(signature = (text, strategy=None, types=None))]
        fn mask_counts<'py>(
            &self,
            py: Python<'py>,
            text: &Bound<'_, PyAny>,
            strategy: Option<&Bound<'_, PyAny>>,
            types: Option<&Bound<'_, PyAny>>,
        ) -> PyResult<(Py<PyAny>, Bound<'py, PyDict>)> {
            let (masked, _, hits) = self.masked(py, text, strategy, types, None)?;
            let mut per_type = vec![0usize; self.ids.len()];
            let mut order = Vec::new();
            for h in &hits {
                if per_type[h.ty] == 0 {
                    order.push(h.ty);
                }
                per_type[h.ty] += 1;
            }
            let counts = PyDict::new(py);
            for ty in order {
                counts.set_item(self.ids[ty].bind(py), per_type[ty])?;
            }
            Ok((masked, counts))
        }

        #[pyo3(signature = (data, strategy=None, types=None, mask=None, tokens=None))]
        fn scan(
            &self,
            py: Python<'_>,
            data: &Bound<'_, PyAny>,
            strategy: Option<&Bound<'_, PyAny>>,
            types: Option<&Bound<'_, PyAny>>,
            mask: Option<&Bound<'_, PyAny>>,
            tokens: Option<&Bound<'_, PyAny>>,
        ) -> PyResult<(Py<PyAny>, Py<PyList>, usize)> {
            let assigned = self.tokens_arg(tokens)?;
            let mask = assigned.is_some() || mask.map_or(Ok(true), |m| m.is_truthy())?;
            let strategy = strategy_arg(strategy);
            let strategy = strategy.as_deref();
            let types = types_arg(types)?;
            if assigned.is_none() {
                guarded(|| self.inner.check_strategy(strategy))?;
            }
            let selected = guarded(|| self.inner.select(as_refs(&types).as_deref()))?;
            let mut budget = Budget::new(self.inner.compiled());
            let read = payload::read(data, &mut budget, mask)?;
            let (nodes, tape, selected) = (budget.nodes, &read.tape, &selected);
            let (changes, found) = detached(py, budget.bytes(), move || {
                guarded(|| match &assigned {
                    Some(assigned) => self.inner.scan_tape_assigned(tape, nodes, selected, assigned),
                    None => self.inner.scan_tape(tape, nodes, strategy, selected, mask),
                })
            })?;
            let paused = CollectorPaused::new(py, nodes.max(found.len()) >= PAUSE_NODES);
            let data_out = if mask { read.write(py, &changes)?.unbind() } else { data.clone().unbind() };
            let found = self.found_objects(py, found)?.unbind();
            drop(paused);
            Ok((data_out, found, budget.bytes()))
        }
    }

    /// Panic inside a guarded engine call, to test that panics become `InternalError`.
    ///
    /// Only in builds with the `test-hooks` feature (`make setup`); release wheels leave it out.
    #[cfg(feature = "test-hooks")]
    #[pyfunction]
    fn _panic_for_tests() -> PyResult<()> {
        install_panic_hook();
        guarded(|| -> Result<(), Error> { panic!("deliberate panic for tests") })
    }

    /// The Rust engine of mcp-pii.
    #[pymodule(gil_used = false)]
    fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        m.add_class::<PyEngine>()?;
        m.add_class::<Detection>()?;
        m.add_class::<NestedDetection>()?;
        m.add_class::<MaskResult>()?;
        m.add_function(wrap_pyfunction!(crate::measure::payload_size, m)?)?;
        m.add_function(wrap_pyfunction!(crate::measure::weight, m)?)?;
        #[cfg(feature = "test-hooks")]
        m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
        Ok(())
    }
}
