//! Identity Cloud's data operations on the emulator's records: `/entity`, `entity.find`,
//! `entity.count`, `entity.create`, `entity.update`, `entity.replace`, `entity.delete`, as
//! Janrain's Entity API reference describes them.

use std::cmp::Ordering;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::filter::{Filter, compare_numbers};
use super::path::{self, AttrPath, SYSTEM_ATTRIBUTES};
use super::records::{EntityType, Invalid, Records, Store};
use crate::error::{ErrorCode, JanrainError};
use crate::server::{AuthenticatedClient, VerifiedParams};

/// The most records one `entity.find` page may ask for (`max_results`): the emulator's bound
/// (Janrain's reference states none), so that a runaway page size shows in tests as a 200
/// `invalid_argument`.
pub const MAX_RESULTS: u64 = 10_000;
/// The page size of `entity.find` without `max_results` (the emulator's choice: Janrain's
/// reference states none).
pub const DEFAULT_MAX_RESULTS: u64 = 100;

/// A data operation, by its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DataOp {
    View,
    Find,
    Count,
    Create,
    Update,
    Replace,
    Delete,
}

impl DataOp {
    /// Every data operation and its path.
    pub(super) const ALL: [(&'static str, DataOp); 7] = [
        ("/entity", DataOp::View),
        ("/entity.find", DataOp::Find),
        ("/entity.count", DataOp::Count),
        ("/entity.create", DataOp::Create),
        ("/entity.update", DataOp::Update),
        ("/entity.replace", DataOp::Replace),
        ("/entity.delete", DataOp::Delete),
    ];

    pub(super) fn of(path: &str) -> Option<DataOp> {
        DataOp::ALL
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, op)| *op)
    }
}

/// How `first_result` counts: from 1 (the first record is `first_result=1`) unless told.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rules {
    pub(super) first_result_base: u64,
}

/// Run `op` for the caller on `records`: the answer, or the Janrain error.
pub(super) fn run(
    op: DataOp,
    records: &Records,
    rules: Rules,
    client: Option<&AuthenticatedClient>,
    params: Option<&VerifiedParams>,
) -> Result<Value, JanrainError> {
    let args = Args(params);
    let user = client.and_then(AuthenticatedClient::user);
    let type_name = args.required("type_name")?;
    let mut store = records.lock();
    let now = store.now();
    let entity_type = entity_type(&mut store, type_name)?;
    match op {
        DataOp::Find => find(entity_type, &args, rules, user),
        DataOp::Count => {
            let total = matching(entity_type, user, filter(&args)?.as_ref()).count();
            Ok(json!({"stat": "ok", "total_count": total}))
        }
        DataOp::Create => create(entity_type, &args, user, &now),
        DataOp::View | DataOp::Update | DataOp::Replace | DataOp::Delete => {
            let id = locate(entity_type, &args, user, type_name)?;
            match op {
                DataOp::View => view(entity_type, id, &args),
                DataOp::Delete => delete(entity_type, id, &args, &now),
                _ => write(op, entity_type, id, &args, &now),
            }
        }
    }
}

/// The records `filter` matches (every one without a filter) among those a caller may see: a
/// user's own, or all; by id.
fn matching<'a>(
    entity_type: &'a EntityType,
    user: Option<&'a str>,
    filter: Option<&'a Filter>,
) -> impl Iterator<Item = &'a Value> + 'a {
    let only = user.map(|uuid| entity_type.id_of(uuid));
    entity_type
        .records
        .iter()
        .filter(move |(id, _)| only.is_none_or(|only| only == Some(**id)))
        .map(|(_, record)| record)
        .filter(move |record| filter.is_none_or(|f| f.matches(record)))
}

/// The entity type `type_name`, or 222 `unknown_entity_type`.
pub(super) fn entity_type<'a>(
    store: &'a mut Store,
    type_name: &str,
) -> Result<&'a mut EntityType, JanrainError> {
    if !store.types.contains_key(type_name) {
        let known = store.types.keys().cloned().collect::<Vec<_>>().join(", ");
        return Err(JanrainError::new(
            ErrorCode {
                code: 222,
                error: "unknown_entity_type",
            },
            format!("there is no entity type {type_name:?} (the emulator holds: {known})"),
        )
        .with_argument_name("type_name"));
    }
    store
        .types
        .get_mut(type_name)
        .ok_or_else(|| JanrainError::unexpected_error("the entity type went away"))
}

/// `entity.find`: the records the filter matches, sorted, one page of them.
fn find(
    entity_type: &EntityType,
    args: &Args<'_>,
    rules: Rules,
    user: Option<&str>,
) -> Result<Value, JanrainError> {
    let filter = filter(args)?;
    let sort_on: Vec<String> = args
        .json("sort_on", "a JSON list of attribute names")?
        .unwrap_or_default();
    let sort_on = sort_on
        .iter()
        .map(|key| {
            let (descending, name) = match key.strip_prefix('-') {
                Some(name) => (true, name),
                None => (false, key.as_str()),
            };
            AttrPath::parse(name)
                .map(|path| (path, descending))
                .map_err(|reason| JanrainError::invalid_argument("sort_on", reason))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let max_results = args
        .integer("max_results", 1, MAX_RESULTS)?
        .unwrap_or(DEFAULT_MAX_RESULTS);
    let first = rules.first_result_base;
    let first_result = args
        .integer("first_result", first, u64::MAX)?
        .unwrap_or(first);
    let attributes = attribute_list(args)?;
    let show_total = args.boolean("show_total_count")?.unwrap_or(false);
    // Accepted, with nothing to wait for.
    args.integer("timeout", 1, 60)?;

    let mut found: Vec<&Value> = matching(entity_type, user, filter.as_ref()).collect();
    // Records come in id order (the natural order); a stable sort keeps it among equals.
    if !sort_on.is_empty() {
        found.sort_by(|a, b| {
            sort_on
                .iter()
                .map(|(path, descending)| {
                    sort_order(path::get(a, path), path::get(b, path), *descending)
                })
                .find(|o| *o != Ordering::Equal)
                .unwrap_or(Ordering::Equal)
        });
    }
    let total = found.len();
    let skip = usize::try_from(first_result - first).unwrap_or(usize::MAX);
    let page: Vec<Value> = found
        .into_iter()
        .skip(skip)
        .take(usize::try_from(max_results).unwrap_or(usize::MAX))
        .map(|r| shape(r, attributes.as_deref()))
        .collect();
    let mut answer = json!({"stat": "ok", "result_count": page.len(), "results": page});
    if show_total {
        answer["total_count"] = total.into();
    }
    Ok(answer)
}

/// How two records' values sort: `null` (or not set) after every value going up, before them
/// going down (as the database under Identity Cloud sorts); then numbers, strings in byte
/// (ASCII) order, booleans, and anything else, each kind in its own order.
fn sort_order(a: Option<&Value>, b: Option<&Value>, descending: bool) -> Ordering {
    fn kind(v: &Value) -> u8 {
        match v {
            Value::Number(_) => 0,
            Value::String(_) => 1,
            Value::Bool(_) => 2,
            _ => 3,
        }
    }
    let a = a.filter(|v| !v.is_null());
    let b = b.filter(|v| !v.is_null());
    let order = match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => match (x, y) {
            (Value::Number(x), Value::Number(y)) => {
                compare_numbers(x, y).unwrap_or(Ordering::Equal)
            }
            (Value::String(x), Value::String(y)) => x.as_bytes().cmp(y.as_bytes()),
            (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
            (x, y) => kind(x).cmp(&kind(y)),
        },
    };
    if descending { order.reverse() } else { order }
}

/// The `filter` parameter, parsed; `None` without one (or an empty one): every record.
fn filter(args: &Args<'_>) -> Result<Option<Filter>, JanrainError> {
    match args.one("filter")? {
        Some(text) if !text.trim().is_empty() => Filter::parse(text)
            .map(Some)
            .map_err(|e| JanrainError::invalid_argument("filter", e)),
        _ => Ok(None),
    }
}

/// The `attributes` parameter of `/entity` and `entity.find`: the attributes to answer with.
fn attribute_list(args: &Args<'_>) -> Result<Option<Vec<AttrPath>>, JanrainError> {
    let Some(names) = args.json::<Vec<String>>("attributes", "a JSON list of attribute names")?
    else {
        return Ok(None);
    };
    names
        .iter()
        .map(|name| {
            AttrPath::parse(name).map_err(|r| JanrainError::invalid_argument("attributes", r))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// A record as answered: whole, or only `attributes`.
fn shape(record: &Value, attributes: Option<&[AttrPath]>) -> Value {
    match attributes {
        Some(paths) => path::project(record, paths),
        None => record.clone(),
    }
}

/// The record a call addresses: the user's own for a call made with a user's token (never
/// the one a parameter names: the layer refuses a token's call that names another user),
/// else by `uuid`, by `id`, or by `key_attribute` and `key_value`.
fn locate(
    entity_type: &EntityType,
    args: &Args<'_>,
    user: Option<&str>,
    type_name: &str,
) -> Result<i64, JanrainError> {
    let not_found =
        |what: String| JanrainError::record_not_found(format!("no {type_name} record has {what}"));
    if let Some(uuid) = user {
        return entity_type
            .id_of(uuid)
            .ok_or_else(|| not_found(format!("the uuid {uuid} the access token was issued for")));
    }
    let given: Vec<&str> = ["uuid", "id", "key_attribute"]
        .into_iter()
        .filter(|name| args.present(name))
        .collect();
    if let [first, second, ..] = given.as_slice() {
        return Err(JanrainError::duplicate_argument(second, first));
    }
    match given.first().copied() {
        Some("uuid") => {
            let uuid = args.required("uuid")?;
            entity_type
                .id_of(uuid)
                .ok_or_else(|| not_found(format!("the uuid {uuid}")))
        }
        Some("id") => {
            let id = args.integer("id", 1, i64::MAX as u64)?.unwrap_or(0) as i64;
            entity_type
                .records
                .contains_key(&id)
                .then_some(id)
                .ok_or_else(|| not_found(format!("the id {id}")))
        }
        Some(_) => {
            let key = AttrPath::parse(args.required("key_attribute")?)
                .map_err(|r| JanrainError::invalid_argument("key_attribute", r))?;
            let Some(value) =
                args.json::<Value>("key_value", "JSON text (a string in double quotes)")?
            else {
                return Err(JanrainError::missing_argument("key_value"));
            };
            let ids: Vec<i64> = entity_type
                .records
                .iter()
                .filter(|(_, r)| path::get(r, &key) == Some(&value))
                .map(|(id, _)| *id)
                .collect();
            match ids.as_slice() {
                [id] => Ok(*id),
                [] => Err(not_found(format!("{key} = {value}"))),
                many => Err(JanrainError::invalid_argument(
                    "key_attribute",
                    format!(
                        "{key} is not unique: {} records have {key} = {value}",
                        many.len()
                    ),
                )),
            }
        }
        None if args.present("key_value") => Err(JanrainError::missing_argument("key_attribute")),
        None => Err(JanrainError::missing_argument("uuid")),
    }
}

/// The record `id` after the `created` and `lastUpdated` the call sent, if any, matched.
fn checked<'a>(
    entity_type: &'a EntityType,
    id: i64,
    args: &Args<'_>,
) -> Result<&'a Value, JanrainError> {
    let record = &entity_type.records[&id];
    for name in ["created", "lastUpdated"] {
        if let Some(sent) = args.one(name)?
            && record.get(name).and_then(Value::as_str) != Some(sent)
        {
            return Err(JanrainError::new(
                ErrorCode {
                    code: 330,
                    error: "timestamp_mismatch",
                },
                format!(
                    "{name} does not match the record's: it changed since you read it (or was mistyped)"
                ),
            )
            .with_argument_name(name));
        }
    }
    Ok(record)
}

/// `/entity`: the record, or only `attributes`, or the one attribute `attribute_name`.
fn view(entity_type: &EntityType, id: i64, args: &Args<'_>) -> Result<Value, JanrainError> {
    let record = checked(entity_type, id, args)?;
    if args.present("attribute_name") && args.present("attributes") {
        return Err(JanrainError::duplicate_argument(
            "attributes",
            "attribute_name",
        ));
    }
    let result = match attribute_name(args)? {
        Some(path) => path::get(record, &path).cloned().unwrap_or(Value::Null),
        None => shape(record, attribute_list(args)?.as_deref()),
    };
    Ok(json!({"stat": "ok", "result": result}))
}

/// The `attribute_name` parameter, parsed.
fn attribute_name(args: &Args<'_>) -> Result<Option<AttrPath>, JanrainError> {
    args.one("attribute_name")?
        .map(|name| {
            AttrPath::parse(name).map_err(|r| JanrainError::invalid_argument("attribute_name", r))
        })
        .transpose()
}

/// `entity.create`: a new record of `attributes`; its `id` and `uuid`, and with
/// `include_record=true` the record.
fn create(
    entity_type: &mut EntityType,
    args: &Args<'_>,
    user: Option<&str>,
    now: &str,
) -> Result<Value, JanrainError> {
    if user.is_some() {
        return Err(JanrainError::client_permission_error(
            "a user's access token acts on that user's own record; it cannot create records",
        ));
    }
    let include = args.boolean("include_record")?.unwrap_or(false);
    let Some(attributes) = args.json::<Value>("attributes", "a JSON object of attributes")? else {
        return Err(JanrainError::missing_argument("attributes"));
    };
    let Value::Object(mut attributes) = attributes else {
        return Err(JanrainError::invalid_argument(
            "attributes",
            "it is not a JSON object",
        ));
    };
    if attributes.contains_key("id") {
        return Err(JanrainError::new(
            ErrorCode {
                code: 320,
                error: "id_in_new_record",
            },
            "a new record cannot be given an id: Identity Cloud assigns it",
        )
        .with_argument_name("attributes"));
    }
    // Identity Cloud stamps these itself.
    attributes.remove("created");
    attributes.remove("lastUpdated");
    let ids = entity_type
        .add(vec![Value::Object(attributes)], now)
        .map_err(|(_, invalid)| rejected("attributes", invalid))?;
    let record = &entity_type.records[&ids[0]];
    let mut answer = json!({"stat": "ok", "id": record["id"], "uuid": record["uuid"]});
    if include {
        answer["result"] = record.clone();
    }
    Ok(answer)
}

/// A record the store would not take, as Janrain words it.
fn rejected(argument: &str, invalid: Invalid) -> JanrainError {
    match invalid {
        Invalid::DuplicateUuid(_) | Invalid::DuplicateId(_) => JanrainError::new(
            ErrorCode {
                code: 361,
                error: "unique_violation",
            },
            invalid.to_string(),
        )
        .with_argument_name(argument),
        other => JanrainError::invalid_argument(argument, other),
    }
}

/// `entity.update` (merge) and `entity.replace` (replace) of the record `id`, or of its
/// attribute `attribute_name`, with `value` (or `attributes`, as Janrain's examples send it).
fn write(
    op: DataOp,
    entity_type: &mut EntityType,
    id: i64,
    args: &Args<'_>,
    now: &str,
) -> Result<Value, JanrainError> {
    let include = args.boolean("include_record")?.unwrap_or(false);
    let mut record = checked(entity_type, id, args)?.clone();
    let target = attribute_name(args)?;
    let name = match (args.present("value"), args.present("attributes")) {
        (true, true) => return Err(JanrainError::duplicate_argument("value", "attributes")),
        (true, false) => "value",
        (false, true) => "attributes",
        (false, false) => return Err(JanrainError::missing_argument("value")),
    };
    let text = args.required(name)?;
    let value = match (serde_json::from_str::<Value>(text), &target) {
        (Ok(value), _) => value,
        // One attribute may take its value as plain text ("Fred").
        (Err(_), Some(_)) => Value::String(text.to_owned()),
        (Err(e), None) => {
            return Err(JanrainError::invalid_argument(
                name,
                format!("it is not JSON text: {e}"),
            ));
        }
    };
    match target {
        Some(path) => {
            if SYSTEM_ATTRIBUTES.contains(&path.top()) {
                return Err(read_only("attribute_name", path.top()));
            }
            let mut at = path::get(&record, &path).cloned().unwrap_or(Value::Null);
            match op {
                DataOp::Update if !at.is_null() => path::merge(&mut at, value),
                _ => at = value,
            }
            path::set(&mut record, &path, at)
                .map_err(|r| JanrainError::invalid_argument("attribute_name", r))?;
        }
        None => {
            let Value::Object(mut value) = value else {
                return Err(JanrainError::invalid_argument(
                    name,
                    "it is not a JSON object",
                ));
            };
            for system in SYSTEM_ATTRIBUTES {
                match value.remove(system) {
                    Some(sent) if Some(&sent) != record.get(system) => {
                        return Err(read_only(name, system));
                    }
                    _ => {}
                }
            }
            match op {
                DataOp::Update => path::merge(&mut record, Value::Object(value)),
                _ => {
                    for system in SYSTEM_ATTRIBUTES {
                        if let Some(kept) = record.get(system) {
                            value.insert(system.to_owned(), kept.clone());
                        }
                    }
                    record = Value::Object(value);
                }
            }
        }
    }
    let Value::Object(record) = record else {
        return Err(JanrainError::unexpected_error(
            "the record is not an object",
        ));
    };
    Ok(store_written(entity_type, id, record, now, include))
}

fn read_only(argument: &str, attribute: &str) -> JanrainError {
    JanrainError::invalid_argument(
        argument,
        format!("{attribute} is kept by Identity Cloud and cannot be changed"),
    )
}

/// Put the written record back, stamped; the answer.
fn store_written(
    entity_type: &mut EntityType,
    id: i64,
    mut record: Map<String, Value>,
    now: &str,
    include: bool,
) -> Value {
    record.insert("lastUpdated".into(), now.into());
    let mut answer = json!({"stat": "ok"});
    if include {
        answer["result"] = Value::Object(record.clone());
    }
    entity_type.put(id, record);
    answer
}

/// `entity.delete`: the record, or only its attribute `attribute_name` (a plural's element
/// as `plural#id`).
fn delete(
    entity_type: &mut EntityType,
    id: i64,
    args: &Args<'_>,
    now: &str,
) -> Result<Value, JanrainError> {
    let mut record = checked(entity_type, id, args)?.clone();
    match attribute_name(args)? {
        None => {
            entity_type.remove(id);
            Ok(json!({"stat": "ok"}))
        }
        Some(path) => {
            if SYSTEM_ATTRIBUTES.contains(&path.top()) {
                return Err(read_only("attribute_name", path.top()));
            }
            let removed = path::remove(&mut record, &path);
            match record {
                Value::Object(record) if removed => {
                    Ok(store_written(entity_type, id, record, now, false))
                }
                _ => Err(JanrainError::invalid_argument(
                    "attribute_name",
                    format!("the record has nothing at {path}"),
                )),
            }
        }
    }
}

/// A call's parameters, read the way every data operation reads them, each failure the
/// Janrain error naming the parameter.
struct Args<'a>(Option<&'a VerifiedParams>);

impl<'a> Args<'a> {
    fn present(&self, name: &str) -> bool {
        self.0.is_some_and(|p| p.get(name).is_some())
    }

    /// The value of `name`, sent at most once (201 `duplicate_argument` otherwise).
    fn one(&self, name: &str) -> Result<Option<&'a str>, JanrainError> {
        let Some(params) = self.0 else {
            return Ok(None);
        };
        let mut values = params.iter().filter(|(k, _)| *k == name).map(|(_, v)| v);
        let first = values.next();
        if values.next().is_some() {
            return Err(JanrainError::duplicate_argument(name, name));
        }
        Ok(first)
    }

    /// The value of `name`, which must be sent and not empty (100 `missing_argument`).
    fn required(&self, name: &str) -> Result<&'a str, JanrainError> {
        self.one(name)?
            .filter(|v| !v.is_empty())
            .ok_or_else(|| JanrainError::missing_argument(name))
    }

    /// The JSON text of `name`, read as a `T` (`what` says what it should be, in errors).
    fn json<T: DeserializeOwned>(&self, name: &str, what: &str) -> Result<Option<T>, JanrainError> {
        self.one(name)?
            .map(|text| {
                serde_json::from_str(text).map_err(|e| {
                    JanrainError::invalid_argument(name, format!("it is not {what}: {e}"))
                })
            })
            .transpose()
    }

    /// `name` as a whole number from `min` to `max`.
    fn integer(&self, name: &str, min: u64, max: u64) -> Result<Option<u64>, JanrainError> {
        self.one(name)?
            .map(|text| {
                text.trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (min..=max).contains(n))
                    .ok_or_else(|| {
                        JanrainError::invalid_argument(
                            name,
                            format!("it is not a whole number from {min} to {max}"),
                        )
                    })
            })
            .transpose()
    }

    /// `name` as `true` or `false`.
    fn boolean(&self, name: &str) -> Result<Option<bool>, JanrainError> {
        self.one(name)?
            .map(|text| match text {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(JanrainError::invalid_argument(
                    name,
                    "it is neither true nor false",
                )),
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorting_puts_nulls_last_going_up() {
        let (one, two, text) = (json!(1), json!(2), json!("a"));
        assert_eq!(sort_order(Some(&one), Some(&two), false), Ordering::Less);
        assert_eq!(sort_order(Some(&one), Some(&two), true), Ordering::Greater);
        assert_eq!(sort_order(None, Some(&one), false), Ordering::Greater);
        assert_eq!(
            sort_order(Some(&Value::Null), Some(&one), true),
            Ordering::Less
        );
        assert_eq!(sort_order(Some(&one), Some(&text), false), Ordering::Less);
        assert_eq!(sort_order(None, None, false), Ordering::Equal);
    }

    #[test]
    fn every_data_path_is_known() {
        for (path, op) in DataOp::ALL {
            assert_eq!(DataOp::of(path), Some(op));
        }
        assert_eq!(DataOp::of("/entity.bulkCreate"), None);
    }
}
