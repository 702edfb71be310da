//! The Stripe double driven through async-stripe, one binary with a module per area.

mod common;
mod protocol;
mod subscription_flow;
mod trials_and_plans;
