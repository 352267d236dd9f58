//! The records the emulator holds: entity records by entity type, with the `id`, `uuid`,
//! `created` and `lastUpdated` Identity Cloud keeps for each.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::random;
use crate::scheme::{Clock, Datetime, SystemClock};

/// The entity records an [`Emulator`](super::Emulator) serves, by entity type (`user`, ...):
/// given with [`EmulatorBuilder::records`](super::EmulatorBuilder::records), read and changed
/// by the data operations, readable by your test at any time.
///
/// A `Records` is a handle: clones share the same records, so a test can keep one, give a
/// clone to the builder, and look at (or add to) what the emulator holds while it runs.
///
/// Each record is a JSON object. As Identity Cloud does, the emulator keeps four attributes
/// itself:
///
/// * `id`: an integer, unique in its entity type; a record without one gets the next after
///   every id its type has held, so ids only increase (and are never reused after a delete);
/// * `uuid`: a string, unique in its entity type; a record without one gets a random
///   version-4 UUID;
/// * `created` and `lastUpdated`: timestamps written as Janrain writes them,
///   `2016-03-13 19:39:17.856608 +0000` (UTC, microseconds). A record without them is
///   stamped when it is added; every write (`entity.update`, `entity.replace`, an attribute's
///   `entity.delete`) sets `lastUpdated`, and nothing changes `created`.
///
/// The file format of [`Records::load`] (and of the `server` example's `--records FILE`) is
/// one JSON object, entity type names to lists of records:
///
/// ```
/// use janrain_auth::emulator::Records;
///
/// let records = Records::from_json(r#"{
///     "user": [
///         {"uuid": "8d3e1ac4-1b1a-4e0c-9d8e-6c9f1f0b2a11", "email": "zoe@example.com"},
///         {"email": "ann@example.com", "primaryAddress": {"city": "Paris"}}
///     ],
///     "customer": []
/// }"#)?;
/// let ann = &records.all("user")[1];
/// assert_eq!((ann["id"].as_i64(), ann["email"].as_str()), (Some(2), Some("ann@example.com")));
/// assert_eq!(ann["uuid"].as_str().map(str::len), Some(36));
/// assert_eq!(records.type_names(), ["customer", "user"]);
/// # Ok::<(), janrain_auth::emulator::RecordsError>(())
/// ```
///
/// `Debug` shows the entity types and how many records each holds, never their contents.
#[derive(Clone)]
pub struct Records {
    store: Arc<Mutex<Store>>,
}

/// Why records could not be read or added.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordsError {
    /// The records file could not be read.
    #[error("cannot read the records file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The text is not JSON.
    #[error("the records are not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The JSON is not an object of entity type names to lists of records.
    #[error(
        "the records must be one JSON object of entity type names, each with a list of records, such as {{\"user\": [{{\"email\": \"zoe@example.com\"}}]}}"
    )]
    Shape,
    /// A record cannot be added; nothing of its batch was.
    #[error("{type_name} record #{number}: {reason}")]
    Record {
        /// The entity type.
        type_name: String,
        /// Which record of the batch, counting from 1.
        number: usize,
        /// What is wrong with it.
        reason: String,
    },
}

impl fmt::Debug for Records {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let store = self.lock();
        let mut map = f.debug_map();
        for (name, entity_type) in &store.types {
            map.entry(name, &entity_type.records.len());
        }
        map.finish()
    }
}

impl Default for Records {
    fn default() -> Self {
        Records::new()
    }
}

impl Records {
    /// No entity types and no records; timestamps from the system's clock.
    pub fn new() -> Self {
        Records {
            store: Arc::new(Mutex::new(Store {
                types: BTreeMap::new(),
                clock: Arc::new(SystemClock),
            })),
        }
    }

    /// The records of a JSON text in the file format above.
    pub fn from_json(text: &str) -> Result<Self, RecordsError> {
        Records::from_value(serde_json::from_str(text)?)
    }

    /// The records of a JSON value in the file format above.
    pub fn from_value(value: Value) -> Result<Self, RecordsError> {
        let Value::Object(types) = value else {
            return Err(RecordsError::Shape);
        };
        let records = Records::new();
        for (type_name, list) in types {
            let Value::Array(list) = list else {
                return Err(RecordsError::Shape);
            };
            records.extend(&type_name, list)?;
        }
        Ok(records)
    }

    /// The records of a file in the format above.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, RecordsError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| RecordsError::Io {
            path: path.to_owned(),
            source,
        })?;
        Records::from_json(&text)
    }

    /// These records, stamping `created` and `lastUpdated` by `clock` from now on (an
    /// [`EmulatorBuilder::clock`](super::EmulatorBuilder::clock) sets it too).
    pub fn with_clock(self, clock: impl Clock) -> Self {
        self.set_clock(Arc::new(clock));
        self
    }

    /// Stamp by `clock` from now on.
    pub(super) fn set_clock(&self, clock: Arc<dyn Clock>) {
        self.lock().clock = clock;
    }

    /// These records and `records` of `type_name` (the entity type is made if it is new,
    /// even with no records): a builder's step.
    pub fn with(
        self,
        type_name: &str,
        records: impl IntoIterator<Item = Value>,
    ) -> Result<Self, RecordsError> {
        self.extend(type_name, records)?;
        Ok(self)
    }

    /// Add `records` of `type_name`, all or none: each gets what it lacks of `id`, `uuid`,
    /// `created` and `lastUpdated`.
    pub fn extend(
        &self,
        type_name: &str,
        records: impl IntoIterator<Item = Value>,
    ) -> Result<(), RecordsError> {
        let mut store = self.lock();
        let now = store.now();
        let entity_type = store.types.entry(type_name.to_owned()).or_default();
        entity_type
            .add(records.into_iter().collect(), &now)
            .map(drop)
            .map_err(|(index, reason)| RecordsError::Record {
                type_name: type_name.to_owned(),
                number: index + 1,
                reason: reason.to_string(),
            })
    }

    /// Add one record of `type_name`; the record as stored (with its `id`, `uuid` and
    /// timestamps).
    pub fn insert(&self, type_name: &str, record: Value) -> Result<Value, RecordsError> {
        self.extend(type_name, [record])?;
        let store = self.lock();
        let entity_type = &store.types[type_name];
        Ok(entity_type.records[&entity_type.last_added].clone())
    }

    /// The record of `type_name` whose `uuid` is `uuid`.
    pub fn get(&self, type_name: &str, uuid: &str) -> Option<Value> {
        let store = self.lock();
        let entity_type = store.types.get(type_name)?;
        let id = entity_type.uuids.get(uuid)?;
        entity_type.records.get(id).cloned()
    }

    /// The record of `type_name` whose `id` is `id`.
    pub fn get_by_id(&self, type_name: &str, id: i64) -> Option<Value> {
        self.lock().types.get(type_name)?.records.get(&id).cloned()
    }

    /// Every record of `type_name`, by increasing `id`.
    pub fn all(&self, type_name: &str) -> Vec<Value> {
        self.lock()
            .types
            .get(type_name)
            .map(|t| t.records.values().cloned().collect())
            .unwrap_or_default()
    }

    /// How many records `type_name` holds.
    pub fn len(&self, type_name: &str) -> usize {
        self.lock()
            .types
            .get(type_name)
            .map_or(0, |t| t.records.len())
    }

    /// Whether `type_name` holds no record (or is not an entity type).
    pub fn is_empty(&self, type_name: &str) -> bool {
        self.len(type_name) == 0
    }

    /// The entity types, by name.
    pub fn type_names(&self) -> Vec<String> {
        self.lock().types.keys().cloned().collect()
    }

    /// The store, for the data operations (a panic while it was held does not lock it away:
    /// each operation leaves it whole before it can panic).
    pub(super) fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What the [`Records`] handle shares.
pub(super) struct Store {
    pub(super) types: BTreeMap<String, EntityType>,
    clock: Arc<dyn Clock>,
}

impl Store {
    /// Now, written as Janrain writes `created` and `lastUpdated`.
    pub(super) fn now(&self) -> String {
        timestamp(self.clock.now())
    }
}

/// One entity type's records, by id, and the way from a uuid to its id.
#[derive(Default)]
pub(super) struct EntityType {
    pub(super) records: BTreeMap<i64, Value>,
    uuids: HashMap<String, i64>,
    /// The greatest id the type has held: the next record's is one more.
    last_id: i64,
    /// The id of the last record added.
    last_added: i64,
}

/// Why a record cannot be added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Invalid {
    NotAnObject,
    BadId,
    DuplicateId(i64),
    BadUuid,
    DuplicateUuid(String),
    BadTimestamp(&'static str),
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Invalid::NotAnObject => f.write_str("a record is a JSON object"),
            Invalid::BadId => f.write_str("id is a positive integer"),
            Invalid::DuplicateId(id) => write!(f, "another record already has the id {id}"),
            Invalid::BadUuid => f.write_str("uuid is a non-empty string"),
            Invalid::DuplicateUuid(uuid) => {
                write!(f, "another record already has the uuid {uuid}")
            }
            Invalid::BadTimestamp(name) => write!(
                f,
                "{name} is a timestamp string such as 2016-03-13 19:39:17.856608 +0000"
            ),
        }
    }
}

impl EntityType {
    /// The id of the record whose uuid is `uuid`.
    pub(super) fn id_of(&self, uuid: &str) -> Option<i64> {
        self.uuids.get(uuid).copied()
    }

    /// Add `batch`, all or none; the ids given, in order. A failure names the record (its
    /// index in the batch) and why.
    pub(super) fn add(
        &mut self,
        mut batch: Vec<Value>,
        now: &str,
    ) -> Result<Vec<i64>, (usize, Invalid)> {
        // Check everything first, so that a failure adds nothing.
        let mut ids = HashSet::new();
        let mut uuids = HashSet::new();
        for (index, record) in batch.iter().enumerate() {
            let fail = |invalid| Err((index, invalid));
            let Some(map) = record.as_object() else {
                return fail(Invalid::NotAnObject);
            };
            if let Some(id) = map.get("id") {
                let Some(id) = id.as_i64().filter(|&id| id >= 1) else {
                    return fail(Invalid::BadId);
                };
                if self.records.contains_key(&id) || !ids.insert(id) {
                    return fail(Invalid::DuplicateId(id));
                }
            }
            if let Some(uuid) = map.get("uuid") {
                let Some(uuid) = uuid.as_str().filter(|u| !u.is_empty()) else {
                    return fail(Invalid::BadUuid);
                };
                if self.uuids.contains_key(uuid) || !uuids.insert(uuid) {
                    return fail(Invalid::DuplicateUuid(uuid.to_owned()));
                }
            }
            for name in ["created", "lastUpdated"] {
                if map.get(name).is_some_and(|t| !t.is_string()) {
                    return fail(Invalid::BadTimestamp(name));
                }
            }
        }
        let highest = ids.iter().copied().max().unwrap_or(0);
        let mut next = self.last_id.max(highest);
        let mut added = Vec::with_capacity(batch.len());
        for record in batch.iter_mut() {
            let map = record.as_object_mut().expect("checked above");
            let id = match map.get("id").and_then(Value::as_i64) {
                Some(id) => id,
                None => {
                    next += 1;
                    map.insert("id".into(), next.into());
                    next
                }
            };
            if !map.contains_key("uuid") {
                map.insert("uuid".into(), self.fresh_uuid().into());
            }
            for name in ["created", "lastUpdated"] {
                if !map.contains_key(name) {
                    map.insert(name.into(), now.into());
                }
            }
            let uuid = map["uuid"].as_str().unwrap_or_default().to_owned();
            self.uuids.insert(uuid, id);
            self.records.insert(id, std::mem::take(record));
            self.last_id = self.last_id.max(id);
            self.last_added = id;
            added.push(id);
        }
        Ok(added)
    }

    /// A uuid no record of the type has.
    fn fresh_uuid(&self) -> String {
        loop {
            let uuid = random::uuid();
            if !self.uuids.contains_key(&uuid) {
                return uuid;
            }
        }
    }

    /// Remove the record `id`; whether there was one.
    pub(super) fn remove(&mut self, id: i64) -> bool {
        match self.records.remove(&id) {
            Some(record) => {
                if let Some(uuid) = record.get("uuid").and_then(Value::as_str) {
                    self.uuids.remove(uuid);
                }
                true
            }
            None => false,
        }
    }

    /// Put `record` (whose `id` and `uuid` are those of the record it replaces) back as the
    /// record `id`.
    pub(super) fn put(&mut self, id: i64, record: Map<String, Value>) {
        self.records.insert(id, Value::Object(record));
    }
}

/// `time` as Janrain writes `created` and `lastUpdated`: `2016-03-13 19:39:17.856608 +0000`.
pub(super) fn timestamp(time: SystemTime) -> String {
    let micros = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_micros())
        .unwrap_or(0);
    match Datetime::from_system_time(time) {
        Ok(datetime) => format!("{datetime}.{micros:06} +0000"),
        Err(_) => String::from("1970-01-01 00:00:00.000000 +0000"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::scheme::ManualClock;

    #[test]
    fn ids_and_uuids_are_given_unique_and_increasing() {
        let records = Records::new()
            .with(
                "user",
                [json!({"id": 5}), json!({}), json!({"uuid": "u-1"})],
            )
            .unwrap();
        let ids: Vec<i64> = records
            .all("user")
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [5, 6, 7]);
        assert_eq!(records.get("user", "u-1").unwrap()["id"], 7);
        let added = records.insert("user", json!({"email": "a@b"})).unwrap();
        assert_eq!(added["id"], 8);
        assert_eq!(records.len("user"), 4);
        assert!(records.is_empty("customer"));
        assert_eq!(format!("{records:?}"), r#"{"user": 4}"#);
    }

    #[test]
    fn a_bad_batch_adds_nothing() {
        let records = Records::new()
            .with("user", [json!({"id": 1, "uuid": "a"})])
            .unwrap();
        for (batch, reason) in [
            (vec![json!({}), json!([1])], "#2: a record is a JSON object"),
            (vec![json!({"id": 0})], "positive integer"),
            (vec![json!({"id": "3"})], "positive integer"),
            (vec![json!({"id": 1})], "already has the id 1"),
            (
                vec![json!({"id": 9}), json!({"id": 9})],
                "already has the id 9",
            ),
            (vec![json!({"uuid": "a"})], "already has the uuid a"),
            (vec![json!({"uuid": 7})], "non-empty string"),
            (vec![json!({"created": 1})], "created is a timestamp"),
        ] {
            let e = records.extend("user", batch).unwrap_err().to_string();
            assert!(e.contains(reason), "{e}");
            assert_eq!(records.len("user"), 1, "{e}");
        }
        for (text, needle) in [
            ("[]", "one JSON object"),
            (r#"{"user": {}}"#, "one JSON object"),
            ("{", "not JSON"),
        ] {
            let e = Records::from_json(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        }
        let e = Records::load("/nonexistent/records.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/records.json"), "{e}");
    }

    #[test]
    fn timestamps_are_janrains() {
        let at = UNIX_EPOCH + Duration::from_micros(1_457_897_957_856_608);
        assert_eq!(timestamp(at), "2016-03-13 19:39:17.856608 +0000");
        let clock = ManualClock::at("2026-03-01 12:00:00".parse().unwrap());
        let records = Records::new().with_clock(clock);
        let record = records
            .insert(
                "user",
                json!({"created": "2000-01-01 00:00:00.000000 +0000"}),
            )
            .unwrap();
        assert_eq!(record["created"], "2000-01-01 00:00:00.000000 +0000");
        assert_eq!(record["lastUpdated"], "2026-03-01 12:00:00.000000 +0000");
    }
}
