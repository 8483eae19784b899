//! The v5 API (`/api/v5/objects/...`, Bearer + `Pardot-Business-Unit-Id`): prospects with
//! their writes, the prospect custom fields, and the objects over the v3/v4 stores, with the
//! conventions of the "Version 5 overview" (`fields` required, `limit`/`orderBy`/
//! `nextPageToken` paging, JSON bodies, the recycle bin). One store per business unit serves
//! both generations: a v5 write is what a v3/v4 query sees, and the other way round.
//!
//! `request` admits a request and writes its answer; `params` reads the list parameters and
//! writes pages; `writes` reads JSON bodies; `errors` makes the v5 errors; `prospects`,
//! `custom_fields` and `objects` are the handlers.

mod custom_fields;
mod errors;
mod objects;
mod params;
mod prospects;
mod request;
mod writes;

pub(crate) use objects::user_field;
pub(crate) use params::{MAX_LIMIT, page_limit};

use axum::Router;
use axum::routing::{get, post};

/// The `/api/v5/objects` routes. The static prospect and custom-field paths win over the
/// `{object}` ones.
pub(crate) fn routes() -> Router {
    Router::new()
        .route(
            "/api/v5/objects/prospects",
            get(prospects::query).post(prospects::create),
        )
        .route(
            "/api/v5/objects/prospects/do/upsertLatestByEmail",
            post(prospects::upsert_latest_by_email),
        )
        .route(
            "/api/v5/objects/prospects/{id}",
            get(prospects::read)
                .patch(prospects::update)
                .delete(prospects::delete),
        )
        .route(
            "/api/v5/objects/prospects/{id}/do/undelete",
            post(prospects::undelete),
        )
        .route(
            "/api/v5/objects/custom-fields",
            get(custom_fields::query).post(custom_fields::create),
        )
        .route(
            "/api/v5/objects/custom-fields/{id}",
            get(custom_fields::read)
                .patch(custom_fields::update)
                .delete(custom_fields::delete),
        )
        .route(
            "/api/v5/objects/{object}",
            get(objects::query).post(objects::create),
        )
        .route(
            "/api/v5/objects/{object}/{id}",
            get(objects::read)
                .patch(objects::update)
                .delete(objects::delete),
        )
}
