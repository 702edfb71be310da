//! A chart drawn on the server, shown before hydration with its text alternative.

use crate::model::Chart;
use leptos::prelude::*;

/// A server-drawn chart with its caption, its text alternative (`role="img"`
/// labelled by title and summary) and its legend. The numbers it plots are in a
/// table the page shows with it.
#[component]
pub fn ChartFigure(chart: Chart) -> impl IntoView {
    let legend = chart.legend;
    let caption_id = format!("chart-{}-caption", chart.id);
    view! {
        <figure class="rounded-lg border border-slate-200 bg-white p-4" data-testid=format!("chart-{}", chart.id) aria-labelledby=caption_id.clone()>
            <figcaption id=caption_id.clone()>
                <span class="block font-semibold">{chart.title.clone()}</span>
                <span class="block text-sm text-slate-600" data-testid="chart-summary">{chart.summary.clone()}</span>
            </figcaption>
            // The SVG is the picture; its numbers are in the page's table.
            <div role="img" aria-label=format!("{}. {}", chart.title, chart.summary) class="mt-2 [&_svg]:h-auto [&_svg]:w-full" inner_html=chart.svg></div>
            {(!legend.is_empty()).then(|| view! {
                <ul class="mt-2 flex flex-wrap gap-4 text-xs text-slate-600" aria-label="Legend">
                    {legend.into_iter().map(|(name, color)| view! {
                        <li class="flex items-center gap-1">
                            <span class="inline-block h-3 w-3 rounded-sm" style=format!("background:{color}") aria-hidden="true"></span>
                            {name}
                        </li>
                    }).collect_view()}
                </ul>
            })}
        </figure>
    }
}
