//! Stripe's form encoding: `application/x-www-form-urlencoded` bodies and query strings whose keys
//! nest with brackets (`items[0][price]=…`, `metadata[plan]=pro`, `expand[]=subscription`,
//! `lookup_keys[0]=a`; <https://docs.stripe.com/api/request_ids> and the `curl` examples of every
//! endpoint). [`Params::parse`] turns such a string into a tree; its accessors report errors with the
//! full bracketed parameter name as Stripe does.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::ApiError;

/// A parsed request: a JSON tree whose leaves are strings. Maps whose keys are all indices
/// (`[0]`, `[1]`, or `[]`) become arrays, in index order.
#[derive(Debug, Clone, Default)]
pub struct Params {
    value: Value,
    prefix: String,
}

impl Params {
    /// Parses a form body or query string. Never fails: malformed pairs are kept as plain keys.
    pub fn parse(input: &str) -> Self {
        let mut root = Value::Object(Map::new());
        for (key, value) in form_urlencoded::parse(input.as_bytes()) {
            let path = split_key(&key);
            insert(&mut root, &path, value.into_owned());
        }
        Self {
            value: arrays(root, false),
            prefix: String::new(),
        }
    }

    /// The bracketed name of `key` under this (possibly nested) parameter set, e.g. `items[0][price]`.
    pub fn name(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}[{key}]", self.prefix)
        }
    }

    /// The raw value at `key`, if any.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.value.get(key)
    }

    /// Whether `key` was sent (even empty).
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The string at `key`, `None` if absent or not a string.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }

    /// The string at `key`, or 400 `parameter_missing`. An empty string counts as missing.
    pub fn require(&self, key: &str) -> Result<&str, ApiError> {
        match self.str(key) {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(ApiError::missing(&self.name(key))),
        }
    }

    /// The integer at `key`, or 400 "Invalid integer" if it does not parse.
    pub fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.str(key) {
            None | Some("") => Ok(None),
            Some(s) => s
                .parse()
                .map(Some)
                .map_err(|_| ApiError::invalid(&self.name(key), format!("Invalid integer: {s}"))),
        }
    }

    /// The boolean at `key` (`true`/`false`), or 400 "Invalid boolean".
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.str(key) {
            None | Some("") => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(s) => Err(ApiError::invalid(
                &self.name(key),
                format!("Invalid boolean: {s}"),
            )),
        }
    }

    /// The nested parameter set at `key` (`recurring[interval]` → `child("recurring")`).
    pub fn child(&self, key: &str) -> Params {
        Params {
            value: self.get(key).cloned().unwrap_or(Value::Null),
            prefix: self.name(key),
        }
    }

    /// The list at `key` as nested parameter sets (`items[0][…]`, `items[1][…]`).
    pub fn list(&self, key: &str) -> Vec<Params> {
        match self.get(key) {
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| Params {
                    value: v.clone(),
                    prefix: format!("{}[{i}]", self.name(key)),
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The list of strings at `key` (`expand[]=a&expand[]=b`, `lookup_keys[0]=a`); a single plain
    /// value counts as a one-element list.
    pub fn strings(&self, key: &str) -> Vec<String> {
        match self.get(key) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    /// A string-to-string map such as `metadata[k]=v`. Setting a key to the empty string
    /// deletes it on update, as Stripe documents; callers merge with [`merge_metadata`].
    pub fn map(&self, key: &str) -> Option<BTreeMap<String, String>> {
        match self.get(key) {
            Some(Value::Object(map)) => Some(
                map.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect(),
            ),
            // `metadata=` (empty) clears all metadata.
            Some(Value::String(s)) if s.is_empty() => Some(BTreeMap::new()),
            _ => None,
        }
    }
}

/// Applies a metadata update: keys set to `""` are removed, others set; `metadata=""` clears all.
pub fn merge_metadata(
    current: &mut BTreeMap<String, String>,
    update: Option<BTreeMap<String, String>>,
) {
    let Some(update) = update else { return };
    if update.is_empty() {
        current.clear();
    }
    for (k, v) in update {
        if v.is_empty() {
            current.remove(&k);
        } else {
            current.insert(k, v);
        }
    }
}

/// `a[b][0][]` → `["a", "b", "0", ""]`.
fn split_key(key: &str) -> Vec<String> {
    let Some(open) = key.find('[') else {
        return vec![key.to_owned()];
    };
    let mut parts = vec![key[..open].to_owned()];
    let mut rest = &key[open..];
    while let Some(stripped) = rest.strip_prefix('[') {
        match stripped.find(']') {
            Some(close) => {
                parts.push(stripped[..close].to_owned());
                rest = &stripped[close + 1..];
            }
            None => {
                parts.push(stripped.to_owned());
                rest = "";
            }
        }
    }
    parts
}

fn insert(node: &mut Value, path: &[String], value: String) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let Value::Object(map) = node else { return };
    // `[]` appends: give it the next free index.
    let key = if first.is_empty() {
        map.len().to_string()
    } else {
        first.clone()
    };
    if rest.is_empty() {
        map.insert(key, Value::String(value));
        return;
    }
    let child = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !child.is_object() {
        *child = Value::Object(Map::new());
    }
    insert(child, rest, value);
}

/// Turns maps keyed only by indices into arrays, except under `metadata` (free-form keys).
fn arrays(node: Value, in_metadata: bool) -> Value {
    match node {
        Value::Object(map) => {
            let all_indices =
                !in_metadata && !map.is_empty() && map.keys().all(|k| k.parse::<usize>().is_ok());
            if all_indices {
                let mut items: Vec<(usize, Value)> = map
                    .into_iter()
                    .filter_map(|(k, v)| k.parse().ok().map(|i| (i, arrays(v, false))))
                    .collect();
                items.sort_by_key(|(i, _)| *i);
                Value::Array(items.into_iter().map(|(_, v)| v).collect())
            } else {
                Value::Object(
                    map.into_iter()
                        .map(|(k, v)| {
                            let meta = k == "metadata" || k == "payload";
                            (k, arrays(v, meta))
                        })
                        .collect(),
                )
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_brackets_lists_and_maps() {
        let p = Params::parse(
            "items[0][price]=price_a&items[0][quantity]=2&items[1][price]=price_b&metadata[org]=42&expand[]=subscription&expand[]=customer&lookup_keys[0]=a%20b&mode=subscription",
        );
        let items = p.list("items");
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].str("price"), Some("price_a"));
        assert_eq!(items[0].int("quantity"), Ok(Some(2)));
        assert_eq!(items[1].name("price"), "items[1][price]");
        assert_eq!(
            p.map("metadata").and_then(|m| m.get("org").cloned()),
            Some("42".into())
        );
        assert_eq!(p.strings("expand"), vec!["subscription", "customer"]);
        assert_eq!(p.strings("lookup_keys"), vec!["a b"]);
        assert_eq!(p.str("mode"), Some("subscription"));
    }

    #[test]
    fn percent_encoded_brackets_and_index_order() {
        let p = Params::parse(
            "tiers%5B1%5D%5Bup_to%5D=inf&tiers%5B0%5D%5Bup_to%5D=10&metadata%5B0%5D=x",
        );
        let tiers = p.list("tiers");
        assert_eq!(tiers[0].str("up_to"), Some("10"));
        assert_eq!(tiers[1].str("up_to"), Some("inf"));
        assert_eq!(p.map("metadata").map(|m| m.len()), Some(1));
    }

    #[test]
    fn typed_accessors_report_bracketed_param_names() {
        let p = Params::parse("recurring[interval_count]=x&flag=maybe");
        let err = p.child("recurring").int("interval_count").unwrap_err();
        assert_eq!(err.param.as_deref(), Some("recurring[interval_count]"));
        assert!(p.bool("flag").is_err());
        assert_eq!(
            p.require("customer").unwrap_err().param.as_deref(),
            Some("customer")
        );
    }

    #[test]
    fn metadata_merge_deletes_empty_values() {
        let mut current = BTreeMap::from([
            ("a".to_owned(), "1".to_owned()),
            ("b".to_owned(), "2".to_owned()),
        ]);
        merge_metadata(
            &mut current,
            Params::parse("metadata[a]=&metadata[c]=3").map("metadata"),
        );
        assert_eq!(
            current,
            BTreeMap::from([
                ("b".to_owned(), "2".to_owned()),
                ("c".to_owned(), "3".to_owned())
            ])
        );
        merge_metadata(&mut current, Params::parse("metadata=").map("metadata"));
        assert!(current.is_empty());
    }
}
