//! Page links for lists filtered by GET query parameters: they keep the filters
//! and work without JavaScript.

use leptos::prelude::*;

/// `path?k=v&…&page=n`, with empty parameters left out.
pub fn page_href(path: &str, params: &[(&str, String)], page: u32) -> String {
    let mut query: Vec<String> = params
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", tollgate::access::encode_component(v)))
        .collect();
    query.push(format!("page={page}"));
    format!("{path}?{}", query.join("&"))
}

/// "Previous", numbered page links (the first, the last and two around the
/// current one) and "Next".
#[component]
pub fn Pager(
    /// The list's path.
    path: &'static str,
    /// The filters to keep.
    params: Vec<(&'static str, String)>,
    /// Current page (1-based).
    page: u32,
    /// Number of pages.
    pages: u32,
    /// Matches in all.
    total: i64,
) -> impl IntoView {
    let link = |n: u32, label: String, current: bool| {
        let href = page_href(path, &params, n);
        if current {
            view! { <span aria-current="page" class="rounded bg-indigo-600 px-2 py-1 font-semibold text-white">{label}</span> }.into_any()
        } else {
            view! { <a href=href class="rounded px-2 py-1 font-medium text-indigo-700 hover:bg-indigo-50">{label}</a> }.into_any()
        }
    };
    let mut shown: Vec<u32> = vec![1, pages];
    shown.extend(page.saturating_sub(2).max(1)..=(page + 2).min(pages));
    shown.sort_unstable();
    shown.dedup();
    let mut items = Vec::new();
    if page > 1 {
        items.push(link(page - 1, "← Previous".into(), false));
    }
    let mut last = 0;
    for n in shown {
        if n > last + 1 {
            items.push(view! { <span class="px-1 text-slate-400">"…"</span> }.into_any());
        }
        items.push(link(n, n.to_string(), n == page));
        last = n;
    }
    if page < pages {
        items.push(link(page + 1, "Next →".into(), false));
    }
    view! {
        <nav class="mt-4 flex flex-wrap items-center justify-between gap-2 text-sm" aria-label="Pages">
            <span class="text-slate-500" data-testid="total">{format!("{total} found · page {page} of {pages}")}</span>
            <div class="flex flex-wrap items-center gap-1">{items}</div>
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_filters_and_drop_empty_ones() {
        let params = vec![
            ("q", "ada lovelace".to_string()),
            ("plan", String::new()),
            ("status", "trialing".to_string()),
        ];
        assert_eq!(
            page_href("/admin/users", &params, 3),
            "/admin/users?q=ada%20lovelace&status=trialing&page=3"
        );
    }
}
