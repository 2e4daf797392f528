//! A few helpers to write YAML by hand, for manifests that carry comments (which
//! serde_yaml cannot write).

/// `text` as a double-quoted YAML scalar (valid JSON string syntax, which YAML accepts).
pub(crate) fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// A flow sequence of quoted scalars: `["a", "b"]`.
pub(crate) fn flow_list<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| quote(item.as_ref())).collect();
    format!("[{}]", quoted.join(", "))
}

/// A flow mapping of quoted keys and values: `{"a": "b"}`.
pub(crate) fn flow_map<'a>(pairs: impl IntoIterator<Item = (&'a String, &'a String)>) -> String {
    let entries: Vec<String> = pairs
        .into_iter()
        .map(|(key, value)| format!("{}: {}", quote(key), quote(value)))
        .collect();
    format!("{{{}}}", entries.join(", "))
}

/// A name usable as a Kubernetes object name (DNS-1123 subdomain, at most 63
/// characters here so it also fits a label value): lowercase, runs of other characters
/// replaced by `-`.
pub(crate) fn object_name(parts: &[&str]) -> String {
    let mut name = String::new();
    for part in parts {
        for character in part.chars() {
            let character = character.to_ascii_lowercase();
            if character.is_ascii_alphanumeric() {
                name.push(character);
            } else if !name.ends_with('-') {
                name.push('-');
            }
        }
        if !name.ends_with('-') {
            name.push('-');
        }
    }
    let mut name: String = name.trim_matches('-').chars().take(63).collect();
    while name.ends_with('-') {
        name.pop();
    }
    if name.is_empty() {
        "unnamed".to_owned()
    } else {
        name
    }
}
