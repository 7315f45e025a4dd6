//! The views' conversions, the shared answers, and the document stating the rules that
//! the handlers enforce.

use super::*;
use marquee_platform::input::{self, fields::campaign as shared};
use marquee_proto::Timestamp;
use serde_json::{Value, json};

fn at(seconds: i64) -> Option<Timestamp> {
    Some(Timestamp { seconds, nanos: 0 })
}

fn campaign() -> pb::Campaign {
    pb::Campaign {
        id: "c-1".into(),
        tenant_id: "t-1".into(),
        owner_id: "u-1".into(),
        brief: Some(pb::Brief {
            name: "Spring launch".into(),
            campaign_type: "product".into(),
            business_description: "Acme Coffee".into(),
            platforms: vec!["x".into(), "mastodon".into()],
            creativity: 5,
            post_count: 9,
            time_zone: "Europe/Paris".into(),
            ..Default::default()
        }),
        analysis: None,
        themes: vec![pb::Theme {
            name: "Roasting".into(),
            description: "How".into(),
            selected: true,
        }],
        hashtags: vec![pb::Hashtag {
            name: "coffee".into(),
            selected: false,
            source: "analysis".into(),
        }],
        guidance: "Warm".into(),
        chat: vec![pb::ChatMessage {
            role: "user".into(),
            text: "Shorter".into(),
            at: at(1_790_000_000),
            provider: String::new(),
        }],
        posts: vec![pb::Post {
            id: "p-1".into(),
            campaign_id: "c-1".into(),
            platform: "x".into(),
            kind: "text_image".into(),
            content: "Hello #coffee".into(),
            hashtags: vec!["coffee".into()],
            selected: true,
            provider: "rules".into(),
            status: "draft".into(),
            engagement: Some(pb::Engagement {
                score: 61,
                reasons: vec!["short".into()],
            }),
            created_at: at(1_790_000_000),
            updated_at: at(1_790_000_100),
            ..Default::default()
        }],
        status: "ready".into(),
        created_at: at(1_790_000_000),
        updated_at: at(1_790_000_100),
        template_id: String::new(),
    }
}

#[test]
fn campaigns_are_flat_and_use_null_for_what_they_lack() {
    let json = serde_json::to_value(CampaignBody::from(campaign())).unwrap();
    assert_eq!(json["id"], "c-1");
    assert_eq!(
        json["name"], "Spring launch",
        "the brief is at the top level"
    );
    assert_eq!(json["platforms"], json!(["x", "mastodon"]));
    assert_eq!(json["time_zone"], "Europe/Paris");
    assert_eq!(json["creativity"], 5);
    assert!(json["analysis"].is_null());
    assert!(json["template_id"].is_null());
    for key in ["analysis", "template_id"] {
        assert!(json.as_object().unwrap().contains_key(key), "{key} present");
    }
    assert!(json.get("tenant_id").is_none() && json.get("owner_id").is_none());
    assert!(
        json.get("hashtags").is_none(),
        "the campaign's hashtags are `tags`"
    );
    assert_eq!(
        json["tags"],
        json!([{"name": "coffee", "selected": false, "source": "analysis"}])
    );
    assert_eq!(json["themes"][0]["selected"], true);
    assert_eq!(json["chat"][0]["role"], "user");
    assert!(json["chat"][0]["at"].as_str().unwrap().starts_with("2026-"));

    let post = &json["posts"][0];
    assert_eq!(
        post["engagement"],
        json!({"score": 61, "reasons": ["short"]})
    );
    for key in [
        "asset_id",
        "media_provider",
        "scheduled_at",
        "failure_reason",
        "published_at",
    ] {
        assert!(post[key].is_null(), "{key}");
        assert!(post.as_object().unwrap().contains_key(key), "{key} present");
    }
    assert!(post.get("campaign_id").is_none());

    let mut illustrated = campaign();
    illustrated.template_id = "tpl-1".into();
    illustrated.analysis = Some(pb::Analysis {
        company_name: "Acme".into(),
        provider: "rules".into(),
        sources: vec!["description".into()],
        created_at: at(1_790_000_000),
        ..Default::default()
    });
    let post = &mut illustrated.posts[0];
    post.asset_id = "a-9".into();
    post.media_provider = "template".into();
    post.scheduled_at = at(1_790_086_400);
    post.engagement = None;
    let json = serde_json::to_value(CampaignBody::from(illustrated)).unwrap();
    assert_eq!(json["template_id"], "tpl-1");
    assert_eq!(json["analysis"]["company_name"], "Acme");
    assert_eq!(json["analysis"]["sources"], json!(["description"]));
    assert!(json["analysis"]["created_at"].is_string());
    let post = &json["posts"][0];
    assert_eq!(post["asset_id"], "a-9");
    assert_eq!(post["media_provider"], "template");
    assert!(post["scheduled_at"].is_string());
    assert_eq!(post["engagement"], json!({"score": 0, "reasons": []}));
}

#[test]
fn lists_carry_summaries_without_posts_or_chat() {
    let page = CampaignPageBody::new(vec![campaign()], "c-0".into());
    let json = serde_json::to_value(page).unwrap();
    let item = &json["items"][0];
    assert_eq!(item["name"], "Spring launch");
    assert!(item.get("posts").is_none() && item.get("chat").is_none());
    assert_eq!(json["next_cursor"], "c-0");
    let last = serde_json::to_value(CampaignPageBody::new(
        Vec::<pb::Campaign>::new(),
        String::new(),
    ))
    .unwrap();
    assert!(last["next_cursor"].is_null());
}

#[test]
fn jobs_deliveries_templates_and_connectors_convert() {
    let job = serde_json::to_value(JobBody::from(pb::Job {
        id: "j-1".into(),
        campaign_id: "c-1".into(),
        kind: "analysis".into(),
        state: "queued".into(),
        provider: "rules".into(),
        created_at: at(1_790_000_000),
        updated_at: at(1_790_000_000),
        ..Default::default()
    }))
    .unwrap();
    for key in ["error", "post_id", "asset_id", "finished_at"] {
        assert!(job[key].is_null(), "{key}");
        assert!(job.as_object().unwrap().contains_key(key), "{key} present");
    }
    let job = serde_json::to_value(JobBody::from(pb::Job {
        id: "j-2".into(),
        kind: "image".into(),
        state: "failed".into(),
        error: "the image provider failed".into(),
        post_id: "p-1".into(),
        asset_id: "a-1".into(),
        finished_at: at(1_790_000_050),
        ..Default::default()
    }))
    .unwrap();
    assert_eq!(job["error"], "the image provider failed");
    assert_eq!(job["post_id"], "p-1");
    assert_eq!(job["asset_id"], "a-1");
    assert!(job["finished_at"].is_string());
    assert!(is_final("failed") && is_final("succeeded") && is_final("cancelled"));
    assert!(!is_final("running") && !is_final("queued"));

    let delivery = serde_json::to_value(DeliveryBody::from(pb::Delivery {
        id: "d-1".into(),
        status: "failed".into(),
        attempts: 3,
        error: "timed out".into(),
        ..Default::default()
    }))
    .unwrap();
    assert!(delivery["status_code"].is_null());
    assert!(delivery["remote_url"].is_null());
    assert_eq!(delivery["error"], "timed out");
    let delivered = serde_json::to_value(DeliveryBody::from(pb::Delivery {
        status: "delivered".into(),
        status_code: 200,
        remote_url: "https://m.example/1".into(),
        ..Default::default()
    }))
    .unwrap();
    assert_eq!(delivered["status_code"], 200);
    assert!(delivered["error"].is_null());

    let template = serde_json::to_value(TemplateBody::from(pb::Template {
        id: "tpl-1".into(),
        name: "Launch".into(),
        visibility: "tenant".into(),
        brief: campaign().brief,
        hashtags: vec![pb::Hashtag {
            name: "coffee".into(),
            selected: true,
            source: "creator".into(),
        }],
        ..Default::default()
    }))
    .unwrap();
    assert_eq!(template["brief"]["name"], "Spring launch");
    assert_eq!(template["tags"][0]["source"], "creator");
    let page =
        serde_json::to_value(ConnectorPageBody::all(vec![pb::Connector::default()])).unwrap();
    assert!(page["next_cursor"].is_null());
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn started_jobs_answer_202_with_their_location() {
    let response = accepted(pb::Job {
        id: "0193a1c4-2e3f-7a40-9b5c-6d7e8f9a0b1c".into(),
        state: "queued".into(),
        ..Default::default()
    });
    assert_eq!(response.status().as_u16(), 202);
    assert_eq!(
        response.headers().get(header::LOCATION).unwrap(),
        "/api/v1/jobs/0193a1c4-2e3f-7a40-9b5c-6d7e8f9a0b1c"
    );
    let body = actix_web::body::to_bytes(response.into_body())
        .await
        .unwrap();
    let job: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(job["state"], "queued");
    assert_eq!(campaign_url("c-1"), "/api/v1/campaigns/c-1");
}

#[test]
fn idempotency_keys_are_visible_ascii() {
    use actix_web::test::TestRequest;
    let key = |value: Option<&[u8]>| {
        let mut request = TestRequest::post();
        if let Some(value) = value {
            request = request.insert_header((
                "idempotency-key",
                header::HeaderValue::from_bytes(value).unwrap(),
            ));
        }
        idempotency_key(&request.to_http_request())
    };
    assert_eq!(key(None).unwrap(), "");
    assert_eq!(key(Some(b"retry-1")).unwrap(), "retry-1");
    assert_eq!(key(Some(&[b'k'; 255])).unwrap().len(), 255);
    for bad in [&b""[..], &[b'k'; 256][..], b"two words", "é".as_bytes()] {
        assert_eq!(key(Some(bad)).unwrap_err().code, "invalid_input");
    }
}

fn document() -> Value {
    serde_json::to_value(crate::openapi::document()).unwrap()
}

/// The schema of `name`, with an `allOf` wrapper's own object first.
fn schema<'a>(document: &'a Value, name: &str) -> &'a Value {
    let schema = &document["components"]["schemas"][name];
    match schema["allOf"].as_array() {
        Some(items) => &items[0],
        None => schema,
    }
}

/// The request-body schemas publish exactly the rules the handlers enforce.
#[test]
fn the_document_states_the_campaign_rules() {
    let document = document();
    for (name, property, rule) in [
        ("CreateCampaignBody", "name", shared::NAME),
        ("CreateCampaignBody", "objective", shared::OBJECTIVE),
        (
            "CreateCampaignBody",
            "business_description",
            shared::BUSINESS_DESCRIPTION,
        ),
        (
            "CreateCampaignBody",
            "target_audience",
            shared::TARGET_AUDIENCE,
        ),
        ("UpdateCampaignBody", "name", shared::NAME),
        ("UpdateCampaignBody", "objective", shared::OBJECTIVE),
        (
            "UpdateCampaignBody",
            "business_description",
            shared::BUSINESS_DESCRIPTION,
        ),
        (
            "UpdateCampaignBody",
            "target_audience",
            shared::TARGET_AUDIENCE,
        ),
        ("UpdateCampaignBody", "guidance", shared::GUIDANCE),
        ("ThemeEditBody", "name", shared::THEME_NAME),
        ("ThemeEditBody", "description", shared::THEME_DESCRIPTION),
        ("DuplicateCampaignBody", "name", shared::NAME),
        ("ChatBody", "message", shared::CHAT_MESSAGE),
        ("RegeneratePostBody", "instructions", shared::INSTRUCTIONS),
        ("UpdatePostBody", "content", shared::POST_CONTENT),
        ("UpdatePostBody", "media_prompt", shared::MEDIA_PROMPT),
        ("SaveTemplateBody", "name", shared::TEMPLATE_NAME),
        (
            "SaveTemplateBody",
            "description",
            shared::TEMPLATE_DESCRIPTION,
        ),
        ("CreateFromTemplateBody", "name", shared::NAME),
        (
            "CreateFromTemplateBody",
            "business_description",
            shared::BUSINESS_DESCRIPTION,
        ),
        ("CreateConnectorBody", "name", shared::CONNECTOR_NAME),
        ("CreateConnectorBody", "account", shared::CONNECTOR_ACCOUNT),
        ("CreateConnectorBody", "secret", shared::CONNECTOR_SECRET),
    ] {
        let documented = &schema(&document, name)["properties"][property];
        let at = format!("{name}.{property}");
        assert_eq!(documented["maxLength"], rule.max_chars, "{at}");
        let min = documented["minLength"].as_u64().unwrap_or(0);
        assert_eq!(min, rule.min_chars as u64, "{at}");
        assert_eq!(documented["pattern"], rule.pattern(), "{at}");
    }

    let schemas = &document["components"]["schemas"];
    let values = |name: &str| schemas[name]["enum"].clone();
    assert_eq!(values("PlatformName"), json!(shared::PLATFORMS));
    assert_eq!(values("CampaignTypeName"), json!(shared::CAMPAIGN_TYPES));
    assert_eq!(values("PostKindName"), json!(shared::POST_KINDS));
    assert_eq!(values("MediaKindName"), json!(shared::MEDIA_KINDS));
    assert_eq!(
        values("TemplateVisibilityName"),
        json!(shared::TEMPLATE_VISIBILITIES)
    );
    assert_eq!(values("ConnectorKindName"), json!(shared::CONNECTOR_KINDS));
    let export = &document["paths"]["/api/v1/campaigns/{id}/export"]["get"]["parameters"];
    let format = export
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "format")
        .unwrap();
    assert_eq!(format["schema"]["enum"], json!(shared::EXPORT_FORMATS));
    let zones = values("TimeZoneName");
    let zones = zones.as_array().unwrap();
    assert_eq!(zones.len(), chrono_tz::TZ_VARIANTS.len());
    for zone in [
        "Europe/Paris",
        "UTC",
        "America/Argentina/Buenos_Aires",
        "Asia/Tokyo",
    ] {
        assert!(zones.contains(&json!(zone)), "{zone}");
    }
    for zone in zones {
        assert!(check_time_zone(zone.as_str().unwrap()).is_ok(), "{zone}");
    }

    let url = &schemas["CampaignUrl"];
    assert_eq!(url["pattern"], rules::URL_PATTERN);
    assert_eq!(url["maxLength"], shared::URL.max_chars);
    assert_eq!(schemas["HashtagName"]["pattern"], shared::HASHTAG_PATTERN);
    assert_eq!(
        schemas["HashtagName"]["maxLength"],
        shared::MAX_HASHTAG_CHARS + 1
    );
    assert_eq!(schemas["ResourceId"]["pattern"], input::ID_PATTERN);
    assert_eq!(schemas["ResourceId"]["maxLength"], input::MAX_ID_CHARS);

    let create = schema(&document, "CreateCampaignBody");
    let urls = &create["properties"]["urls"];
    assert_eq!(urls["maxItems"], shared::MAX_URLS);
    assert_eq!(urls["items"]["$ref"], "#/components/schemas/CampaignUrl");
    assert_eq!(
        create["properties"]["asset_ids"]["maxItems"],
        shared::MAX_ASSETS
    );
    let platforms = &create["properties"]["platforms"];
    assert_eq!(platforms["minItems"], 1);
    assert_eq!(platforms["maxItems"], shared::PLATFORMS.len());
    assert_eq!(
        platforms["items"]["$ref"],
        "#/components/schemas/PlatformName"
    );
    assert_eq!(
        create["properties"]["creativity"]["minimum"],
        shared::MIN_CREATIVITY
    );
    assert_eq!(
        create["properties"]["creativity"]["maximum"],
        shared::MAX_CREATIVITY
    );
    assert_eq!(
        create["properties"]["post_count"]["minimum"],
        shared::MIN_POSTS
    );
    assert_eq!(
        create["properties"]["post_count"]["maximum"],
        shared::MAX_POSTS
    );
    assert_eq!(create["required"], json!(["name", "platforms"]));
    let update = schema(&document, "UpdateCampaignBody");
    assert_eq!(
        update["properties"]["themes"]["maxItems"],
        shared::MAX_THEMES
    );
    assert_eq!(
        update["properties"]["tags"]["maxItems"],
        shared::MAX_HASHTAGS
    );
    assert_eq!(
        schema(&document, "UpdatePostBody")["properties"]["hashtags"]["maxItems"],
        shared::MAX_HASHTAGS
    );
    let every = schema(&document, "ScheduleEveryBody");
    assert_eq!(
        every["properties"]["interval_minutes"]["maximum"],
        shared::MAX_INTERVAL_MINUTES
    );
    assert_eq!(every["properties"]["start_at"]["format"], "date-time");
    let endpoint = &schema(&document, "CreateConnectorBody")["properties"]["endpoint"];
    assert_eq!(endpoint["$ref"], "#/components/schemas/CampaignUrl");
    assert_eq!(shared::CONNECTOR_ENDPOINT.max_chars, shared::URL.max_chars);
    let optional_id = input::ID_PATTERN.replace("{1,", "{0,");
    for (name, property) in [
        ("UpdatePostBody", "asset_id"),
        ("GenerateMediaBody", "background_asset_id"),
    ] {
        assert_eq!(
            schema(&document, name)["properties"][property]["pattern"],
            optional_id.as_str(),
            "{name}.{property}"
        );
    }
    let secret = &schema(&document, "CreateConnectorBody")["properties"]["secret"];
    assert_eq!(secret["writeOnly"], true);

    // Every campaign request body refuses what it does not know.
    for name in [
        "CreateCampaignBody",
        "UpdateCampaignBody",
        "ThemeEditBody",
        "CampaignTagEditBody",
        "DuplicateCampaignBody",
        "ChatBody",
        "GeneratePostsBody",
        "RegeneratePostBody",
        "UpdatePostBody",
        "GenerateMediaBody",
        "ScheduleEveryBody",
        "ScheduleTimesBody",
        "PostTimeBody",
        "UnscheduleBody",
        "SaveTemplateBody",
        "CreateFromTemplateBody",
        "CreateConnectorBody",
    ] {
        assert_eq!(
            schema(&document, name)["additionalProperties"],
            false,
            "{name}"
        );
    }
    let plan = &schemas["ScheduleBody"]["oneOf"];
    assert_eq!(plan.as_array().unwrap().len(), 2);
}

/// The rules a derive cannot state are in the document too.
#[test]
fn cross_field_rules_are_in_the_document() {
    let document = document();
    let schemas = &document["components"]["schemas"];
    let create = &schemas["CreateCampaignBody"];
    assert!(
        create["description"]
            .as_str()
            .unwrap()
            .contains("brief_required")
    );
    let sources = create["allOf"][1]["anyOf"].as_array().unwrap();
    assert_eq!(sources[0]["required"], json!(["business_description"]));
    assert_eq!(
        sources[0]["properties"]["business_description"]["pattern"],
        input::NON_BLANK_MULTI_LINE_PATTERN
    );
    assert_eq!(sources[1]["required"], json!(["urls"]));
    assert_eq!(sources[1]["properties"]["urls"]["minItems"], 1);

    let connector = &schemas["CreateConnectorBody"]["allOf"][1]["anyOf"];
    assert_eq!(
        connector[0]["properties"]["kind"]["enum"],
        json!(["webhook", "mastodon"])
    );
    assert_eq!(connector[1]["required"], json!(["account"]));
    assert_eq!(
        connector[1]["properties"]["account"]["pattern"],
        input::NON_BLANK_LINE_PATTERN
    );
}

/// Long operations answer 202 with the job and its `Location`; the event stream is
/// documented as one.
#[test]
fn jobs_are_documented_as_jobs() {
    let document = document();
    let paths = &document["paths"];
    for (method, path) in [
        ("post", "/api/v1/campaigns/{id}/analysis"),
        ("post", "/api/v1/campaigns/{id}/posts/generate"),
        ("post", "/api/v1/campaigns/{id}/posts/{post_id}/regenerate"),
        ("post", "/api/v1/campaigns/{id}/posts/{post_id}/media"),
    ] {
        let accepted = &paths[path][method]["responses"]["202"];
        assert_eq!(
            accepted["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/JobBody",
            "{path}"
        );
        assert!(accepted["headers"]["Location"].is_object(), "{path}");
        let parameters = paths[path][method]["parameters"].as_array().unwrap();
        assert!(
            parameters
                .iter()
                .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"),
            "{path}"
        );
    }
    let events = &paths["/api/v1/jobs/{id}/events"]["get"]["responses"]["200"]["content"];
    assert!(events["text/event-stream"].is_object(), "{events}");
    let export = &paths["/api/v1/campaigns/{id}/export"]["get"]["responses"]["200"]["content"];
    for media in ["application/json", "text/csv", "text/markdown"] {
        assert!(export[media].is_object(), "{media}");
    }
}

/// Every campaign route reaches its own policy (a literal segment such as
/// `posts/generate` is not taken for a `{post_id}`), and each needs a token.
#[actix_web::test]
async fn every_route_is_served_under_its_policy() {
    use actix_web::test;
    let settings = crate::GatewaySettings {
        auth_url: "http://127.0.0.1:1".into(),
        campaign_url: "http://127.0.0.1:1".into(),
        rate_limit: crate::RateLimitSettings {
            enabled: false,
            ..Default::default()
        },
        ..Default::default()
    };
    let state = actix_web::web::Data::new(crate::AppState::new(settings).unwrap());
    let (health, _) = marquee_platform::health::Health::new("gateway");
    let app = test::init_service(crate::app(state, health)).await;
    let routes: Vec<_> = crate::policy::POLICIES
        .iter()
        .filter(|p| {
            ["/api/v1/campaign", "/api/v1/jobs/", "/api/v1/connectors"]
                .iter()
                .any(|prefix| p.pattern.starts_with(prefix))
        })
        .collect();
    assert_eq!(routes.len(), 26);
    for policy in routes {
        let path = policy
            .pattern
            .replace("{id}", "0193a1c0-1b2c-7d3e-8f40-5a6b7c8d9e0f")
            .replace("{post_id}", "0193a1c2-7d4e-7f00-8a1b-2c3d4e5f6a7b");
        let request = test::TestRequest::default()
            .method(policy.method.parse().unwrap())
            .uri(&path)
            .to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(
            response.status().as_u16(),
            401,
            "{} {}",
            policy.method,
            policy.pattern
        );
    }
    // A path id that is not an id: the token is still checked first.
    let request = test::TestRequest::get()
        .uri("/api/v1/jobs/a%20b/events")
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(response.status().as_u16(), 401, "the token comes first");
}
