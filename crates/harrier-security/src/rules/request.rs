//! Helpers on the request itself: its URI and query, its verb, and how to name its
//! target in a reason.

use crate::audit::{self, AuditView};

/// The request URI's path, without the query.
pub(crate) fn uri_path<'a>(event: &AuditView<'a>) -> Option<&'a str> {
    let uri = event.attr("url.path").and_then(audit::as_str)?;
    Some(uri.split_once('?').map_or(uri, |(path, _)| path))
}

/// The request URI's query parameters, percent-decoded, in order.
pub(crate) fn query_params(event: &AuditView<'_>) -> Vec<(String, String)> {
    let Some(uri) = event.attr("url.path").and_then(audit::as_str) else {
        return Vec::new();
    };
    let Some((_, query)) = uri.split_once('?') else {
        return Vec::new();
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

/// Whether the request was a dry run (`dryRun=All`): nothing was persisted.
pub(crate) fn is_dry_run(event: &AuditView<'_>) -> bool {
    // Every event passes here: decode the query only when it can matter.
    let mentions_dry_run = event
        .attr("url.path")
        .and_then(audit::as_str)
        .is_some_and(|uri| uri.contains("dryRun"));
    mentions_dry_run
        && query_params(event)
            .iter()
            .any(|(key, value)| key == "dryRun" && !value.is_empty())
}

/// Decodes `%XX` escapes and `+` (a space in query strings); invalid escapes stay as
/// they are, invalid UTF-8 is replaced.
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(decoded) = hex {
                    out.push(decoded);
                    i += 3;
                    continue;
                }
                out.push(byte);
            }
            _ => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `verb` changes state.
pub(crate) fn is_write(verb: &str) -> bool {
    matches!(
        verb,
        "create" | "update" | "patch" | "delete" | "deletecollection"
    )
}

/// `created`, `updated`, `patched`, ... for a reason.
pub(crate) fn past_tense(verb: &str) -> &str {
    match verb {
        "create" => "created",
        "update" => "updated",
        "patch" => "patched",
        "delete" => "deleted",
        "get" => "got",
        "list" => "listed",
        "watch" => "watched",
        other => other,
    }
}

/// The target object as `namespace/name` (or `name`), taking the name from the
/// request object when the event has none (a `create`). `generateName` shows as
/// `prefix*`; an unknown name as `<unnamed>`.
pub(crate) fn object_label(event: &AuditView<'_>) -> String {
    let from_object = |key: &str| {
        event
            .request_object()
            .and_then(|o| audit::path(o, &["metadata", key]))
            .and_then(audit::as_str)
            .filter(|s| !s.is_empty())
    };
    let name = match (event.object_name(), from_object("name")) {
        (Some(name), _) | (None, Some(name)) => name.to_string(),
        (None, None) => match from_object("generateName") {
            Some(prefix) => format!("{prefix}*"),
            None => "<unnamed>".to_string(),
        },
    };
    match event.namespace() {
        Some(ns) => format!("{ns}/{name}"),
        None => name,
    }
}

/// The target as `resource[/subresource] [namespace/][name]`, or the URI path of a
/// non-resource request.
pub(crate) fn target_label(event: &AuditView<'_>) -> String {
    let Some(resource) = event.resource() else {
        return uri_path(event).unwrap_or("<unknown>").to_string();
    };
    let mut text = resource.to_string();
    if let Some(sub) = event.subresource() {
        text.push('/');
        text.push_str(sub);
    }
    match (event.namespace(), event.object_name()) {
        (Some(ns), Some(name)) => text.push_str(&format!(" {ns}/{name}")),
        (Some(ns), None) => text.push_str(&format!(" in {ns}")),
        (None, Some(name)) => text.push_str(&format!(" {name}")),
        (None, None) => {}
    }
    text
}

/// Joins at most `max` items with `, `, then `and N more`.
pub(crate) fn join_limited(items: &[String], max: usize) -> String {
    let mut text = items
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        text.push_str(&format!(" and {} more", items.len() - max));
    }
    text
}
