//! One usage meter: used / limit, percent bar coloured by state, days left and the
//! projection.

use crate::format::{badge_class, bar_class, quantity, state_label, unit};
use leptos::prelude::*;
use rust_decimal::prelude::ToPrimitive;
use tollgate::usage::MeterUsage;

/// A meter card. Test hooks: `data-meter`, `data-state`, `data-usage`.
#[component]
pub fn MeterCard(meter: MeterUsage) -> impl IntoView {
    let used = match meter.limit {
        Some(l) => format!(
            "{} / {} {}",
            quantity(meter.usage),
            quantity(l),
            unit(&meter.unit, l)
        ),
        None => format!(
            "{} {}",
            quantity(meter.usage),
            unit(&meter.unit, meter.usage)
        ),
    };
    let percent = meter.percent.map(|p| format!("{} %", p.normalize()));
    let projection = format!(
        "Projected {} by {}",
        quantity(meter.projected),
        crate::format::date(meter.period.end - chrono::Duration::seconds(1))
    );
    view! {
        <section
            class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm"
            data-meter=meter.meter.clone()
            data-state=meter.state.as_str()
            data-usage=meter.usage.normalize().to_string()
            aria-label=format!("{} usage", meter.name)
        >
            <div class="flex items-start justify-between gap-2">
                <h3 class="font-semibold">{meter.name.clone()}</h3>
                <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {}", badge_class(meter.state))>
                    {state_label(meter.state)}
                </span>
            </div>
            <p class="mt-2 text-2xl font-bold tabular-nums" data-testid="meter-used">{used}</p>
            {match meter.limit {
                Some(_) => view! {
                    <UsageBar percent=meter.percent state=meter.state label=format!("{} used", meter.name) class="mt-2"/>
                    <p class="mt-1 text-sm text-slate-600">{percent}</p>
                }
                .into_any(),
                None => view! { <p class="mt-2 text-sm text-slate-600">"Unlimited on your plan"</p> }.into_any(),
            }}
            <p class="mt-2 text-xs text-slate-500">
                {format!("{} day{} left in this period", meter.days_remaining, if meter.days_remaining == 1 { "" } else { "s" })}
            </p>
            <p class=move || format!("text-xs {}", if meter.projected_overage { "font-medium text-orange-700" } else { "text-slate-500" })>
                {projection.clone()}
                {meter.projected_overage.then_some(" — over your limit")}
            </p>
        </section>
    }
}

/// A percent-used bar coloured by state (a `progressbar` for assistive
/// technology, named by `label`); past 100 % it stays full.
#[component]
pub fn UsageBar(
    /// Percent used; `None` (unlimited) draws an empty bar.
    percent: Option<rust_decimal::Decimal>,
    /// The meter's state, for the colour.
    state: tollgate::limits::LimitState,
    /// Accessible name.
    label: String,
    /// Extra classes (margins, width).
    #[prop(optional)]
    class: &'static str,
) -> impl IntoView {
    let width = percent
        .and_then(|p| p.to_f64())
        .map_or(0.0, |p| p.clamp(0.0, 100.0));
    view! {
        <div
            class=format!("h-2 w-full overflow-hidden rounded-full bg-slate-100 {class}")
            role="progressbar"
            aria-label=label
            aria-valuemin="0"
            aria-valuemax="100"
            aria-valuenow=width.round().to_string()
        >
            <div class=format!("h-2 {}", bar_class(state)) style=format!("width: {width:.1}%")></div>
        </div>
    }
}
