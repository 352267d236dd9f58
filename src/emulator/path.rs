//! Attribute paths into records (`primaryAddress.city`, `statuses#5253.status`), and what the
//! data operations do along them: read, project, set, merge, remove.

use std::fmt;

use serde_json::{Map, Value};

/// The attributes Identity Cloud keeps itself: a write may repeat their values, never change
/// them.
pub(super) const SYSTEM_ATTRIBUTES: [&str; 4] = ["id", "uuid", "created", "lastUpdated"];

/// One step of a path: an attribute, and for a plural the element with this `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Segment {
    pub(super) name: String,
    pub(super) element: Option<i64>,
}

/// A dotted attribute path, each step an attribute name, a plural's element written `name#id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct AttrPath(pub(super) Vec<Segment>);

impl AttrPath {
    /// `a.b.c`, each name non-empty and free of `.` and `#`, a plural's element as `name#id`.
    pub(super) fn parse(text: &str) -> Result<AttrPath, String> {
        let mut segments = Vec::new();
        for part in text.split('.') {
            let (name, element) = match part.split_once('#') {
                Some((name, id)) => {
                    let id = id.parse::<i64>().map_err(|_| {
                        format!(
                            "{part:?} names a plural element by {id:?}, which is not an integer id"
                        )
                    })?;
                    (name, Some(id))
                }
                None => (part, None),
            };
            if name.is_empty() {
                return Err(format!(
                    "{text:?} is not an attribute path (names separated by dots)"
                ));
            }
            segments.push(Segment {
                name: name.to_owned(),
                element,
            });
        }
        Ok(AttrPath(segments))
    }

    /// A path of plain names.
    pub(super) fn of_names(names: impl IntoIterator<Item = String>) -> AttrPath {
        AttrPath(
            names
                .into_iter()
                .map(|name| Segment {
                    name,
                    element: None,
                })
                .collect(),
        )
    }

    /// The first name: the top-level attribute the path is under.
    pub(super) fn top(&self) -> &str {
        self.0.first().map_or("", |s| s.name.as_str())
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            f.write_str(&segment.name)?;
            if let Some(id) = segment.element {
                write!(f, "#{id}")?;
            }
        }
        Ok(())
    }
}

/// The element of the plural `list` whose `id` is `id`.
fn element(list: &[Value], id: i64) -> Option<usize> {
    list.iter()
        .position(|e| e.get("id").and_then(Value::as_i64) == Some(id))
}

/// The value at `path`, if there is one (a plural element by its id).
pub(super) fn get<'a>(record: &'a Value, path: &AttrPath) -> Option<&'a Value> {
    let mut at = record;
    for segment in &path.0 {
        at = at.get(&segment.name)?;
        if let Some(id) = segment.element {
            let list = at.as_array()?;
            at = &list[element(list, id)?];
        }
    }
    Some(at)
}

/// Every value at `path`, a plural met on the way standing for each of its elements: what a
/// filter compares (a plural's attribute matches when any element's does).
pub(super) fn values_at<'a>(record: &'a Value, path: &AttrPath) -> Vec<&'a Value> {
    let mut here = vec![record];
    for segment in &path.0 {
        let mut next = Vec::new();
        for value in here {
            let mut push = |v: &'a Value| match v {
                Value::Array(items) => next.extend(items.iter()),
                other => next.push(other),
            };
            match value {
                Value::Object(map) => {
                    if let Some(v) = map.get(&segment.name) {
                        push(v);
                    }
                }
                Value::Array(items) => {
                    for item in items {
                        if let Some(v) = item.get(&segment.name) {
                            push(v);
                        }
                    }
                }
                _ => {}
            }
        }
        here = next;
    }
    here
}

/// Only the attributes `paths` of `record`, nested as in the record; an attribute the record
/// lacks is `null`.
pub(super) fn project(record: &Value, paths: &[AttrPath]) -> Value {
    let mut out = Value::Object(Map::new());
    for path in paths {
        let value = get(record, path).cloned().unwrap_or(Value::Null);
        // A path through a plural element projects onto its plain names.
        let plain = AttrPath::of_names(path.0.iter().map(|s| s.name.clone()));
        let _ = set(&mut out, &plain, value);
    }
    out
}

/// Put `value` at `path`, making the objects on the way; a plural element must exist.
pub(super) fn set(record: &mut Value, path: &AttrPath, value: Value) -> Result<(), String> {
    let Some((last, ancestors)) = path.0.split_last() else {
        *record = value;
        return Ok(());
    };
    let mut at = record;
    for segment in ancestors {
        at = step_mut(at, segment, true)?;
    }
    match last.element {
        None => {
            let map = as_object(at, &last.name)?;
            map.insert(last.name.clone(), value);
        }
        Some(_) => *step_mut(at, last, false)? = value,
    }
    Ok(())
}

/// Remove what is at `path`; whether there was anything.
pub(super) fn remove(record: &mut Value, path: &AttrPath) -> bool {
    let Some((last, ancestors)) = path.0.split_last() else {
        return false;
    };
    let mut at = record;
    for segment in ancestors {
        match step_mut(at, segment, false) {
            Ok(next) => at = next,
            Err(_) => return false,
        }
    }
    let Some(map) = at.as_object_mut() else {
        return false;
    };
    match last.element {
        None => map.remove(&last.name).is_some(),
        Some(id) => match map.get_mut(&last.name) {
            Some(Value::Array(list)) => match element(list, id) {
                Some(i) => {
                    list.remove(i);
                    true
                }
                None => false,
            },
            _ => false,
        },
    }
}

/// The value under `segment` of the object `at`: made (an empty object) when `make` and it is
/// missing; a plural element by its id.
fn step_mut<'a>(at: &'a mut Value, segment: &Segment, make: bool) -> Result<&'a mut Value, String> {
    let map = as_object(at, &segment.name)?;
    if !map.contains_key(&segment.name) {
        if !make || segment.element.is_some() {
            return Err(format!("the record has no attribute {}", segment.name));
        }
        map.insert(segment.name.clone(), Value::Object(Map::new()));
    }
    let child = map
        .get_mut(&segment.name)
        .ok_or_else(|| format!("the record has no attribute {}", segment.name))?;
    match segment.element {
        None => {
            if child.is_null() && make {
                *child = Value::Object(Map::new());
            }
            Ok(child)
        }
        Some(id) => {
            let list = child
                .as_array_mut()
                .ok_or_else(|| format!("{} is not a plural", segment.name))?;
            let i = element(list, id)
                .ok_or_else(|| format!("{} has no element with id {id}", segment.name))?;
            Ok(&mut list[i])
        }
    }
}

fn as_object<'a>(at: &'a mut Value, name: &str) -> Result<&'a mut Map<String, Value>, String> {
    at.as_object_mut()
        .ok_or_else(|| format!("{name} is inside a value that is not an object"))
}

/// `entity.update`'s merge: objects merge attribute by attribute; a plural (a list of objects)
/// gains the new elements, an element carrying the `id` of an existing one replacing it;
/// anything else is replaced.
pub(super) fn merge(target: &mut Value, update: Value) {
    match (target, update) {
        (Value::Object(target), Value::Object(update)) => {
            for (key, value) in update {
                match target.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        target.insert(key, value);
                    }
                }
            }
        }
        (Value::Array(target), Value::Array(update))
            if target.iter().chain(update.iter()).all(Value::is_object) =>
        {
            for item in update {
                let id = item.get("id").and_then(Value::as_i64);
                match id.and_then(|id| element(target, id)) {
                    Some(i) => target[i] = item,
                    None => target.push(item),
                }
            }
        }
        (target, update) => *target = update,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn path(text: &str) -> AttrPath {
        AttrPath::parse(text).unwrap()
    }

    #[test]
    fn paths_parse_and_print() {
        assert_eq!(path("a.b#3.c").to_string(), "a.b#3.c");
        assert!(AttrPath::parse("a..b").is_err());
        assert!(AttrPath::parse("").is_err());
        assert!(AttrPath::parse("a#x").is_err());
    }

    #[test]
    fn reads_sets_and_removes() {
        let mut record = json!({"a": {"b": 1}, "s": [{"id": 5, "v": "x"}, {"id": 6, "v": "y"}]});
        assert_eq!(get(&record, &path("a.b")), Some(&json!(1)));
        assert_eq!(get(&record, &path("s#6.v")), Some(&json!("y")));
        assert_eq!(get(&record, &path("s#7")), None);
        assert_eq!(values_at(&record, &path("s.v")), [&json!("x"), &json!("y")]);
        set(&mut record, &path("p.q"), json!(2)).unwrap();
        set(&mut record, &path("s#5.v"), json!("z")).unwrap();
        assert!(set(&mut record, &path("s#9.v"), json!(0)).is_err());
        assert!(set(&mut record, &path("a.b.c"), json!(0)).is_err());
        assert_eq!(record["p"]["q"], 2);
        assert_eq!(record["s"][0]["v"], "z");
        assert!(remove(&mut record, &path("s#5")));
        assert!(!remove(&mut record, &path("s#5")));
        assert!(remove(&mut record, &path("a.b")));
        assert_eq!(record["s"], json!([{"id": 6, "v": "y"}]));
        assert_eq!(
            project(&record, &[path("p.q"), path("missing"), path("s#6.v")]),
            json!({"p": {"q": 2}, "missing": null, "s": {"v": "y"}})
        );
    }

    #[test]
    fn merges_as_entity_update_does() {
        let mut record = json!({"a": {"b": 1, "c": 2}, "s": [{"id": 1, "v": "x"}], "t": [1, 2]});
        merge(
            &mut record,
            json!({"a": {"c": 3}, "s": [{"id": 1, "v": "y"}, {"v": "new"}], "t": [3]}),
        );
        assert_eq!(
            record,
            json!({"a": {"b": 1, "c": 3}, "s": [{"id": 1, "v": "y"}, {"v": "new"}], "t": [3]})
        );
    }
}
