//! The JSON shapes the bindings show their users, and the TypeScript and Python declarations
//! of them, generated from the serde types through their [`JsonSchema`] implementations.
//!
//! The declarations are committed in the bindings ([`generated_files`]); [`REGENERATE`]
//! rewrites them, and the `binding_types` test fails while they differ from what the types
//! say.
//!
//! A shape the core writes (an answer, a value given to a store) is described as serialized:
//! a key is optional only when it is left out when unset. A shape the core reads (a request,
//! the service options, a store's answers) is described as deserialized: a key is optional
//! when it may be left out, and `null` is accepted where the type allows it. A type that
//! travels both ways is described as written.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Map, Value};

use crate::cost::CostEstimate;
use crate::egress::{BrowserEgressSettings, EgressSummary};
use crate::error::ErrorCode;
use crate::service::{
    AgentDecisions, AgentDecisionsQuery, AgentStreamingConfig, AnalyticsQuery, AnalyticsReport,
    AutoStartOutcome, ChangeNotice, CleanupSummary, ConfigureAgentRequest,
    ConfigurePlatformRequest, ConfigureUserRequest, CredentialTarget, DecisionInput, EventInput,
    GameStateUpdated, ListSessionsRequest, MatchResultRecorded, MatchResultRequest,
    OverlaySnapshot, PlatformConfigView, ReconcileReport, RecordedActivity, ServiceSettings,
    SessionList, StartStreamRequest, StartStreamResponse, StopStreamRequest, StopStreamResponse,
    UpdateDestinationsRequest, UpdateDestinationsResponse, ViewerPollReport, WebhookOutcome,
};
use crate::session::{
    Activity, Entity, GameState, StoredGameState, StreamSession, TimelineEntry, ViewerSample,
};
use crate::store::host::{Inserted, ListQuery};
use crate::store::{AgentKey, AgentKeyView, Lease, PlatformCredential, SessionPage};
use crate::token::OverlayClaims;
use crate::webhook::EgressEvent;

/// The command that rewrites the generated files.
pub const REGENERATE: &str = "cargo run -p ltcg-streaming-core --example gen-types";
/// The Node package's TypeScript header (`dtsHeaderFile`); its generated section is rewritten.
pub const TYPESCRIPT_FILE: &str = "ltcg-streaming-node/types.d.ts";
/// The Python module of `TypedDict`s, generated whole.
pub const PYTHON_FILE: &str = "ltcg-streaming-py/python/ltcg_streaming/types.py";

/// First line of the generated section of [`TYPESCRIPT_FILE`].
const TS_BEGIN: &str = "// BEGIN GENERATED TYPES";
/// Last line of the generated section of [`TYPESCRIPT_FILE`].
const TS_END: &str = "// END GENERATED TYPES";
/// Longest line written before a union is split over several lines.
const MAX_LINE: usize = 100;

/// Every generated file (under the repository root `repo`) with its up-to-date contents; the
/// hand-written part of [`TYPESCRIPT_FILE`] is read from `repo` and kept.
pub fn generated_files(repo: &Path) -> io::Result<Vec<(PathBuf, String)>> {
    let model = Model::new()?;
    let ts_path = repo.join(TYPESCRIPT_FILE);
    let ts = splice(&fs::read_to_string(&ts_path)?, &model.typescript())?;
    Ok(vec![
        (ts_path, ts),
        (repo.join(PYTHON_FILE), model.python()?),
    ])
}

/// Adds `T`'s schema (and those it uses) to a generator; returns its name.
type Root = fn(&mut SchemaGenerator) -> String;

fn root<T: JsonSchema>(generator: &mut SchemaGenerator) -> String {
    generator.subschema_for::<T>();
    T::schema_name().into_owned()
}

/// The service's requests: read; Python also takes their keys as keyword arguments.
const REQUESTS: [Root; 15] = [
    root::<StartStreamRequest>,
    root::<StopStreamRequest>,
    root::<ListSessionsRequest>,
    root::<UpdateDestinationsRequest>,
    root::<DecisionInput>,
    root::<EventInput>,
    root::<ConfigurePlatformRequest>,
    root::<CredentialTarget>,
    root::<GameState>,
    root::<MatchResultRequest>,
    root::<ConfigureAgentRequest>,
    root::<ConfigureUserRequest>,
    root::<AgentDecisionsQuery>,
    root::<ChangeNotice>,
    root::<AnalyticsQuery>,
];
/// The service options: read; Python takes them as snake_case keywords, nested keys too.
const OPTIONS: Root = root::<ServiceSettings>;
/// The other shapes the core reads: answers of a store written in the host language, the
/// browser egress's options.
const READ: [Root; 8] = [
    root::<SessionPage>,
    root::<Lease>,
    root::<StoredGameState>,
    root::<ViewerSample>,
    root::<TimelineEntry>,
    root::<Inserted>,
    root::<AgentKey>,
    root::<BrowserEgressSettings>,
];
/// The shapes the core writes: answers, verified tokens and webhooks, values given to stores.
const WRITTEN: [Root; 28] = [
    root::<StartStreamResponse>,
    root::<StopStreamResponse>,
    root::<SessionList>,
    root::<WebhookOutcome>,
    root::<UpdateDestinationsResponse>,
    root::<RecordedActivity>,
    root::<PlatformConfigView>,
    root::<AutoStartOutcome>,
    root::<ReconcileReport>,
    root::<OverlaySnapshot>,
    root::<OverlayClaims>,
    root::<EgressEvent>,
    root::<CostEstimate>,
    root::<EgressSummary>,
    root::<StreamSession>,
    root::<Activity>,
    root::<Entity>,
    root::<PlatformCredential>,
    root::<AgentKeyView>,
    root::<ListQuery>,
    root::<ErrorCode>,
    root::<GameStateUpdated>,
    root::<MatchResultRecorded>,
    root::<AgentStreamingConfig>,
    root::<AgentDecisions>,
    root::<CleanupSummary>,
    root::<ViewerPollReport>,
    root::<AnalyticsReport>,
];
/// Python names kept from earlier releases: `(old name, generated name)`.
const PYTHON_ALIASES: [(&str, &str); 2] = [
    ("RateLimits", "RateLimitOptions"),
    ("SessionView", "SessionStatusView"),
];

/// Which way a shape travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    Read,
    Written,
}

/// A type expression.
#[derive(Debug, Clone, PartialEq)]
enum Ty {
    Any,
    Bool,
    Int,
    Float,
    Str,
    Null,
    /// A string constant.
    Literal(String),
    /// A named shape.
    Ref(String),
    List(Box<Ty>),
    /// An object with string keys.
    Map(Box<Ty>),
    Union(Vec<Ty>),
}

impl Ty {
    /// The union of `types`, nested unions flattened and repeats dropped.
    fn union(types: Vec<Ty>) -> Ty {
        let mut flat = Vec::new();
        for ty in types {
            let members = match ty {
                Ty::Union(members) => members,
                other => vec![other],
            };
            for member in members {
                if !flat.contains(&member) {
                    flat.push(member);
                }
            }
        }
        if flat.len() == 1 {
            flat.remove(0)
        } else {
            Ty::Union(flat)
        }
    }

    /// This type without `null`.
    fn without_null(self) -> Ty {
        match self {
            Ty::Union(members) => {
                Ty::union(members.into_iter().filter(|t| *t != Ty::Null).collect())
            }
            other => other,
        }
    }

    /// The named shapes this type mentions.
    fn refs<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Ty::Ref(name) => out.push(name),
            Ty::List(t) | Ty::Map(t) => t.refs(out),
            Ty::Union(members) => members.iter().for_each(|t| t.refs(out)),
            _ => {}
        }
    }
}

/// One key of an object shape.
#[derive(Debug)]
struct Field {
    key: String,
    ty: Ty,
    required: bool,
    doc: String,
}

/// A named shape.
#[derive(Debug)]
enum Body {
    Object(Vec<Field>),
    Alias(Ty),
}

/// A named shape with its documentation.
#[derive(Debug)]
struct Decl {
    name: String,
    doc: String,
    body: Body,
}

impl Decl {
    fn refs(&self) -> Vec<&str> {
        let mut out = Vec::new();
        match &self.body {
            Body::Object(fields) => fields.iter().for_each(|f| f.ty.refs(&mut out)),
            Body::Alias(ty) => ty.refs(&mut out),
        }
        out
    }
}

/// Every shape the bindings show, by name.
#[derive(Debug)]
struct Model {
    decls: BTreeMap<String, Decl>,
    /// The requests, whose keys Python also takes as keyword arguments.
    requests: Vec<String>,
    /// The object shapes Python writes with snake_case keys (the options and their parts).
    snake: BTreeSet<String>,
}

impl Model {
    fn new() -> io::Result<Self> {
        let mut read = SchemaSettings::draft2020_12()
            .for_deserialize()
            .into_generator();
        let mut written = SchemaSettings::draft2020_12()
            .for_serialize()
            .into_generator();
        let requests: Vec<String> = REQUESTS.iter().map(|r| r(&mut read)).collect();
        let options = OPTIONS(&mut read);
        let mut camel_roots: Vec<String> = READ.iter().map(|r| r(&mut read)).collect();
        camel_roots.extend(WRITTEN.iter().map(|r| r(&mut written)));
        camel_roots.extend(requests.iter().cloned());

        let mut schemas: BTreeMap<String, (Value, Way)> = read
            .take_definitions(true)
            .into_iter()
            .map(|(name, schema)| (name, (schema, Way::Read)))
            .collect();
        schemas.extend(
            written
                .take_definitions(true)
                .into_iter()
                .map(|(name, schema)| (name, (schema, Way::Written))),
        );
        let decls = schemas
            .iter()
            .map(|(name, (schema, way))| Ok((name.clone(), decl(name, schema, *way)?)))
            .collect::<io::Result<BTreeMap<_, _>>>()?;

        let objects = |roots: &[String]| -> BTreeSet<String> {
            reachable(&decls, roots)
                .into_iter()
                .filter(|name| matches!(decls[name].body, Body::Object(_)))
                .collect()
        };
        let snake = objects(&[options]);
        if let Some(both) = snake.intersection(&objects(&camel_roots)).next() {
            return Err(invalid(format!(
                "{both} is part of the options (snake_case in Python) and of a camelCase shape"
            )));
        }
        Ok(Self {
            decls,
            requests,
            snake,
        })
    }

    /// The generated section of [`TYPESCRIPT_FILE`], marker lines included.
    fn typescript(&self) -> String {
        let mut out = format!(
            "{TS_BEGIN}: written from the core's Rust types by `{REGENERATE}`; do not edit.\n"
        );
        for decl in self.decls.values() {
            out.push('\n');
            out.push_str(&ts_doc(&decl.doc, ""));
            match &decl.body {
                Body::Alias(ty) => out.push_str(&split_union(
                    format!("export type {} = ", decl.name),
                    ty,
                    ts,
                )),
                Body::Object(fields) => {
                    out.push_str(&format!("export interface {} {{\n", decl.name));
                    for f in fields {
                        out.push_str(&ts_doc(&f.doc, "  "));
                        let optional = if f.required { "" } else { "?" };
                        out.push_str(&format!("  {}{optional}: {}\n", f.key, ts(&f.ty)));
                    }
                    out.push_str("}\n");
                }
            }
        }
        out.push('\n');
        out.push_str(TS_END);
        out.push('\n');
        out
    }

    /// The whole of [`PYTHON_FILE`].
    fn python(&self) -> io::Result<String> {
        let mut typing = BTreeSet::from(["TypedDict"]);
        let mut aliases = String::new();
        let mut classes = String::new();
        for decl in self.decls.values() {
            match &decl.body {
                Body::Alias(ty) => {
                    aliases.push('\n');
                    aliases.push_str(&py_comment(&decl.doc));
                    let line = format!("{} = {}\n", decl.name, py(ty, true, &mut typing));
                    aliases.push_str(&py_wrap(line));
                }
                Body::Object(fields) => {
                    let snake = self.snake.contains(&decl.name);
                    let class = py_class(&decl.name, &decl.doc, fields, snake, false, &mut typing)?;
                    classes.push_str(&class);
                }
            }
        }
        for name in &self.requests {
            let Some(Decl {
                body: Body::Object(fields),
                ..
            }) = self.decls.get(name)
            else {
                return Err(invalid(format!("the request {name} is not an object")));
            };
            let doc = format!(
                "The keys of :class:`{name}` as keyword arguments (snake_case names);\n\
                 each may instead come in the request mapping."
            );
            classes.push_str(&py_class(
                &fields_name(name),
                &doc,
                fields,
                true,
                true,
                &mut typing,
            )?);
        }
        let mut compat = String::new();
        for (old, new) in PYTHON_ALIASES {
            if !self.decls.contains_key(new) {
                return Err(invalid(format!(
                    "{old} names {new}, which is not generated"
                )));
            }
            compat.push_str(&format!(
                "#: The earlier name of :class:`{new}`.\n{old} = {new}\n"
            ));
        }
        let typing: Vec<&str> = typing.into_iter().collect();
        Ok(format!(
            "# Written from the Rust types of ltcg-streaming-core by\n\
             # `{REGENERATE}`; do not edit.\n\
             \"\"\"The shapes of the dicts that ltcg_streaming accepts and returns (camelCase JSON keys).\n\
             \n\
             These are :class:`typing.TypedDict` definitions for type checkers and documentation; at run\n\
             time the values are plain ``dict`` objects. Keys marked optional are left out when unset.\n\
             The ``...Fields`` dicts are the keyword arguments of the service's request methods, and\n\
             :class:`ServiceOptions` those of ``StreamingService(...)`` (snake_case names).\n\
             \"\"\"\n\
             \n\
             from __future__ import annotations\n\
             \n\
             from typing import {}\n\
             {aliases}{classes}\n\
             \n\
             # --- Earlier names ---------------------------------------------------------------------------\n\
             \n\
             {compat}",
            typing.join(", ")
        ))
    }
}

/// The named shapes `roots` use, directly or not (the roots included).
fn reachable(decls: &BTreeMap<String, Decl>, roots: &[String]) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&str> = roots.iter().map(String::as_str).collect();
    while let Some(name) = todo.pop() {
        if seen.insert(name.to_owned()) {
            if let Some(decl) = decls.get(name) {
                todo.extend(decl.refs());
            }
        }
    }
    seen
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// The shape named `name` described by `schema`.
fn decl(name: &str, schema: &Value, way: Way) -> io::Result<Decl> {
    let object = schema.as_object().cloned().unwrap_or_default();
    let mut doc = description(&object);
    let body = match object.get("properties").and_then(Value::as_object) {
        Some(properties) => {
            if ["oneOf", "anyOf", "allOf"]
                .iter()
                .any(|k| object.contains_key(*k))
            {
                return Err(invalid(format!("{name} mixes keys with alternatives")));
            }
            let required: Vec<&str> = object
                .get("required")
                .and_then(Value::as_array)
                .map(|keys| keys.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            // Required keys in declaration order, then the optional ones (JSON Schema keeps no
            // order for them).
            let mut fields = Vec::new();
            for key in &required {
                let schema = properties
                    .get(*key)
                    .ok_or_else(|| invalid(format!("{name}.{key} is required but not declared")))?;
                fields.push(field(name, key, schema, true, way)?);
            }
            for (key, schema) in properties {
                if !required.contains(&key.as_str()) {
                    fields.push(field(name, key, schema, false, way)?);
                }
            }
            Body::Object(fields)
        }
        None => {
            let variants = variant_docs(&object);
            if !variants.is_empty() {
                doc.push_str("\n\n");
                doc.push_str(&variants.join("\n"));
            }
            Body::Alias(ty(schema).map_err(|e| invalid(format!("{name}: {e}")))?)
        }
    };
    Ok(Decl {
        name: name.to_owned(),
        doc,
        body,
    })
}

fn field(name: &str, key: &str, schema: &Value, required: bool, way: Way) -> io::Result<Field> {
    let mut ty = ty(schema).map_err(|e| invalid(format!("{name}.{key}: {e}")))?;
    if !required && way == Way::Written {
        // Written shapes leave unset optional keys out rather than writing `null`.
        ty = ty.without_null();
    }
    Ok(Field {
        key: key.to_owned(),
        ty,
        required,
        doc: schema.as_object().map(description).unwrap_or_default(),
    })
}

/// `- \`value\`: doc` for each documented constant of an enum, unless a doc only repeats the
/// value.
fn variant_docs(object: &Map<String, Value>) -> Vec<String> {
    let variants: Vec<(&str, String)> = object
        .get("oneOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| {
            let value = v.get("const")?.as_str()?;
            Some((value, v.as_object().map(description).unwrap_or_default()))
        })
        .collect();
    let repeats = |(value, doc): &(&str, String)| doc.starts_with(&format!("`{value}`"));
    if variants.iter().any(|v| v.1.is_empty() || repeats(v)) {
        return Vec::new();
    }
    variants
        .into_iter()
        .map(|(value, doc)| format!("- `{value}`: {doc}"))
        .collect()
}

/// The `description` of a schema, rustdoc links turned into plain code spans.
fn description(object: &Map<String, Value>) -> String {
    let doc = object
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut out = String::with_capacity(doc.len());
    let mut rest = doc;
    while let Some(start) = rest.find("[`") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find("`]") {
            Some(end) if !after[end + 2..].starts_with(['(', '[']) => {
                out.push_str(&after[..=end]);
                rest = &after[end + 2..];
            }
            _ => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The type expression of `schema`.
fn ty(schema: &Value) -> Result<Ty, String> {
    let Some(object) = schema.as_object() else {
        return Ok(Ty::Any);
    };
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        return Ok(Ty::Ref(name.to_owned()));
    }
    if let Some(value) = object.get("const") {
        return literal(value);
    }
    if let Some(values) = object.get("enum").and_then(Value::as_array) {
        return Ok(Ty::union(
            values.iter().map(literal).collect::<Result<_, _>>()?,
        ));
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(variants) = object.get(key).and_then(Value::as_array) {
            return Ok(Ty::union(
                variants.iter().map(ty).collect::<Result<_, _>>()?,
            ));
        }
    }
    match object.get("type") {
        None => Ok(Ty::Any),
        Some(Value::String(t)) => simple(t, object),
        Some(Value::Array(types)) => Ok(Ty::union(
            types
                .iter()
                .map(|t| simple(t.as_str().unwrap_or_default(), object))
                .collect::<Result<_, _>>()?,
        )),
        Some(other) => Err(format!("unsupported type {other}")),
    }
}

fn simple(name: &str, object: &Map<String, Value>) -> Result<Ty, String> {
    let any = Value::Bool(true);
    Ok(match name {
        "boolean" => Ty::Bool,
        "integer" => Ty::Int,
        "number" => Ty::Float,
        "string" => Ty::Str,
        "null" => Ty::Null,
        "array" => Ty::List(Box::new(ty(object.get("items").unwrap_or(&any))?)),
        "object" if !object.contains_key("properties") => Ty::Map(Box::new(ty(object
            .get("additionalProperties")
            .unwrap_or(&any))?)),
        "object" => return Err("an object shape without a name".to_owned()),
        other => return Err(format!("unsupported type {other:?}")),
    })
}

fn literal(value: &Value) -> Result<Ty, String> {
    match value {
        Value::String(s) if !s.contains(['\'', '"', '\\']) => Ok(Ty::Literal(s.clone())),
        other => Err(format!("unsupported constant {other}")),
    }
}

/// `prefix` + `ty`, a long union split over several lines (`render` writes one member).
fn split_union(prefix: String, ty: &Ty, render: fn(&Ty) -> String) -> String {
    let line = format!("{prefix}{}", render(ty));
    match ty {
        Ty::Union(members) if line.len() > MAX_LINE => {
            let mut out = prefix.trim_end().to_owned();
            for member in members {
                out.push_str(&format!("\n  | {}", render(member)));
            }
            out + "\n"
        }
        _ => line + "\n",
    }
}

/// TypeScript for `ty`.
fn ts(ty: &Ty) -> String {
    match ty {
        Ty::Any => "JsonValue".to_owned(),
        Ty::Bool => "boolean".to_owned(),
        Ty::Int | Ty::Float => "number".to_owned(),
        Ty::Str => "string".to_owned(),
        Ty::Null => "null".to_owned(),
        Ty::Literal(s) => format!("'{s}'"),
        Ty::Ref(name) => name.clone(),
        Ty::List(item) => match **item {
            Ty::Union(_) => format!("({})[]", ts(item)),
            _ => format!("{}[]", ts(item)),
        },
        Ty::Map(value) => format!("Record<string, {}>", ts(value)),
        Ty::Union(members) => members.iter().map(ts).collect::<Vec<_>>().join(" | "),
    }
}

/// A TSDoc comment for `doc`, each line starting with `indent`.
fn ts_doc(doc: &str, indent: &str) -> String {
    if doc.is_empty() {
        return String::new();
    }
    let doc = doc.replace("*/", "*\\/");
    let one_line = format!("{indent}/** {doc} */\n");
    if !doc.contains('\n') && one_line.len() <= MAX_LINE + 1 {
        return one_line;
    }
    let mut out = format!("{indent}/**\n");
    for line in doc.lines() {
        out.push_str(&format!(
            "{indent} *{}{line}\n",
            if line.is_empty() { "" } else { " " }
        ));
    }
    out + &format!("{indent} */\n")
}

/// Python for `ty`; `quote` quotes the named shapes (module-level aliases run at import);
/// `typing` collects the names used from `typing`.
fn py(ty: &Ty, quote: bool, typing: &mut BTreeSet<&'static str>) -> String {
    match ty {
        Ty::Any => {
            typing.insert("Any");
            "Any".to_owned()
        }
        Ty::Bool => "bool".to_owned(),
        Ty::Int => "int".to_owned(),
        Ty::Float => "float".to_owned(),
        Ty::Str => "str".to_owned(),
        Ty::Null => "None".to_owned(),
        Ty::Literal(_) => py(&Ty::Union(vec![ty.clone()]), quote, typing),
        Ty::Ref(name) if quote => format!("\"{name}\""),
        Ty::Ref(name) => name.clone(),
        Ty::List(item) => {
            typing.insert("List");
            format!("List[{}]", py(item, quote, typing))
        }
        Ty::Map(value) => {
            typing.insert("Dict");
            format!("Dict[str, {}]", py(value, quote, typing))
        }
        Ty::Union(members) => {
            let mut literals = Vec::new();
            let mut parts = Vec::new();
            for member in members {
                match member {
                    Ty::Literal(s) => literals.push(format!("\"{s}\"")),
                    Ty::Null => {}
                    other => parts.push(py(other, quote, typing)),
                }
            }
            if !literals.is_empty() {
                typing.insert("Literal");
                parts.insert(0, format!("Literal[{}]", literals.join(", ")));
            }
            let inner = if parts.len() == 1 {
                parts.remove(0)
            } else {
                typing.insert("Union");
                format!("Union[{}]", parts.join(", "))
            };
            if members.contains(&Ty::Null) {
                typing.insert("Optional");
                format!("Optional[{inner}]")
            } else {
                inner
            }
        }
    }
}

/// `line` (`Name = Outer[a, b, ...]\n`), split one member a line when it is too long.
fn py_wrap(line: String) -> String {
    if line.len() <= MAX_LINE {
        return line;
    }
    let (Some(open), Some(close)) = (line.find('['), line.rfind(']')) else {
        return line;
    };
    let mut out = line[..=open].to_owned();
    for member in line[open + 1..close].split(", ") {
        out.push_str(&format!("\n    {member},"));
    }
    out + "\n" + &line[close..]
}

/// `#:` comment lines documenting the next statement.
fn py_comment(doc: &str) -> String {
    doc.lines()
        .map(|line| format!("#:{}{line}\n", if line.is_empty() { "" } else { " " }))
        .collect()
}

/// A `TypedDict` named `name` with `fields` (keys in snake_case when `snake`): the required
/// keys in a base class `_name`, the optional ones (all when `all_optional`) in `name` itself
/// (`total=False`).
fn py_class(
    name: &str,
    doc: &str,
    fields: &[Field],
    snake: bool,
    all_optional: bool,
    typing: &mut BTreeSet<&'static str>,
) -> io::Result<String> {
    let (mut required, mut optional) = (String::new(), String::new());
    for f in fields {
        let key = if snake {
            snake_case(&f.key)?
        } else {
            f.key.clone()
        };
        let lines = if f.required && !all_optional {
            &mut required
        } else {
            &mut optional
        };
        for comment in py_comment(&f.doc).lines() {
            lines.push_str(&format!("    {comment}\n"));
        }
        lines.push_str(&format!("    {key}: {}\n", py(&f.ty, false, typing)));
    }
    let docstring = py_docstring(doc);
    Ok(match (required.is_empty(), optional.is_empty()) {
        (false, false) => format!(
            "\n\nclass _{name}(TypedDict):\n{required}\n\n\
             class {name}(_{name}, total=False):\n{docstring}{optional}"
        ),
        (false, true) => format!("\n\nclass {name}(TypedDict):\n{docstring}{required}"),
        (true, _) => format!("\n\nclass {name}(TypedDict, total=False):\n{docstring}{optional}"),
    })
}

/// A class docstring (indented, with the blank line after it) for `doc`; none when empty.
fn py_docstring(doc: &str) -> String {
    if doc.is_empty() {
        return String::new();
    }
    let doc = doc.replace('\\', "\\\\").replace("\"\"\"", "\\\"\\\"\\\"");
    if !doc.contains('\n') && doc.len() + 10 <= MAX_LINE {
        return format!("    \"\"\"{doc}\"\"\"\n\n");
    }
    let mut out = String::from("    \"\"\"");
    for (i, line) in doc.lines().enumerate() {
        if i > 0 && !line.is_empty() {
            out.push_str("    ");
        }
        out.push_str(line);
        out.push('\n');
    }
    out + "    \"\"\"\n\n"
}

/// `streamKey` → `stream_key`; fails for a key the Python binding would not turn back into
/// the same camelCase key.
fn snake_case(camel: &str) -> io::Result<String> {
    let mut out = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    let back: String = out
        .split('_')
        .enumerate()
        .map(|(i, part)| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) if i > 0 => first.to_ascii_uppercase().to_string() + chars.as_str(),
                _ => part.to_owned(),
            }
        })
        .collect();
    if back != camel
        || !out
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(invalid(format!("{camel:?} has no snake_case keyword form")));
    }
    Ok(out)
}

/// `StartStreamRequest` → `StartStreamFields`, `DecisionInput` → `DecisionFields`.
fn fields_name(request: &str) -> String {
    let stem = request
        .strip_suffix("Request")
        .or_else(|| request.strip_suffix("Input"))
        .unwrap_or(request);
    format!("{stem}Fields")
}

/// `existing` with its generated section replaced by `section`.
fn splice(existing: &str, section: &str) -> io::Result<String> {
    let begin = existing
        .find(TS_BEGIN)
        .ok_or_else(|| invalid(format!("{TYPESCRIPT_FILE} lacks the line {TS_BEGIN}")))?;
    let end = existing[begin..]
        .find(TS_END)
        .map(|i| begin + i)
        .ok_or_else(|| invalid(format!("{TYPESCRIPT_FILE} lacks the line {TS_END}")))?;
    let after = existing[end..]
        .find('\n')
        .map_or(existing.len(), |i| end + i + 1);
    Ok(format!(
        "{}{section}{}",
        &existing[..begin],
        &existing[after..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_names_turn_back_into_the_keys() {
        assert_eq!(
            snake_case("keyFrameIntervalSecs").unwrap(),
            "key_frame_interval_secs"
        );
        assert_eq!(snake_case("at").unwrap(), "at");
        assert!(snake_case("stream_key").is_err());
        assert_eq!(fields_name("DecisionInput"), "DecisionFields");
        assert_eq!(fields_name("CredentialTarget"), "CredentialTargetFields");
    }

    #[test]
    fn only_the_generated_section_is_replaced() {
        let file = format!("head\n{TS_BEGIN}: old\nold\n{TS_END}\ntail\n");
        let new = format!("{TS_BEGIN}: new\nnew\n{TS_END}\n");
        assert_eq!(splice(&file, &new).unwrap(), format!("head\n{new}tail\n"));
        assert!(splice("no markers", &new).is_err());
    }

    #[test]
    fn rustdoc_links_become_code_spans() {
        let object = |doc: &str| Map::from_iter([("description".to_owned(), doc.into())]);
        assert_eq!(
            description(&object("See [`Foo::bar`], [`x`](y) and [a]")),
            "See `Foo::bar`, [`x`](y) and [a]"
        );
    }
}
