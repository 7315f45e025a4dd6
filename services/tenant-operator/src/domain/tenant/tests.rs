use super::*;
use kube::api::ObjectMeta;

fn quota() -> ResourceQuotaSpec {
    ResourceQuotaSpec {
        requests_cpu: Some("4".into()),
        limits_cpu: "8".into(),
        requests_memory: Some("8Gi".into()),
        limits_memory: "16Gi".into(),
        requests_storage: Some("500Gi".into()),
        pods: "100".into(),
        persistentvolumeclaims: Some("20".into()),
        ..ResourceQuotaSpec::default()
    }
}

fn namespaced() -> TenantSpec {
    TenantSpec {
        display_name: "Acme Corp".into(),
        plan: Plan::Business,
        isolation: Isolation::Namespace,
        resource_quota: Some(quota()),
        limit_range: Some(LimitRangeSpec {
            default: Some(CpuMemory {
                cpu: Some("500m".into()),
                memory: Some("512Mi".into()),
            }),
            default_request: Some(CpuMemory {
                cpu: Some("100m".into()),
                memory: Some("128Mi".into()),
            }),
        }),
        feature_flags: BTreeMap::from([("video.export".into(), true), ("beta_ui".into(), false)]),
        admin_emails: vec![
            "ops@acme.example".into(),
            "jane.doe+sre@acme.example".into(),
        ],
        dedicated_replicas: BTreeMap::from([("tagging".into(), 2), ("content".into(), 0)]),
    }
}

fn shared() -> TenantSpec {
    TenantSpec {
        display_name: "Small Shop".into(),
        plan: Plan::Pro,
        isolation: Isolation::Shared,
        resource_quota: None,
        limit_range: None,
        feature_flags: BTreeMap::new(),
        admin_emails: vec!["owner@shop.example".into()],
        dedicated_replicas: BTreeMap::new(),
    }
}

fn fields(spec: &TenantSpec) -> Vec<String> {
    spec.validate()
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect()
}

#[test]
fn valid_specs_pass() {
    assert_eq!(namespaced().validate(), Ok(()));
    assert_eq!(shared().validate(), Ok(()));
}

#[test]
fn namespace_isolation_requires_a_quota() {
    let spec = TenantSpec {
        resource_quota: None,
        ..namespaced()
    };
    let errors = spec.validate().unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].field, "spec.resourceQuota");
    assert_eq!(
        errors[0].to_string(),
        "spec.resourceQuota: is required with namespace isolation"
    );
}

#[test]
fn namespace_only_fields_are_refused_for_shared_tenants() {
    let spec = TenantSpec {
        isolation: Isolation::Shared,
        ..namespaced()
    };
    assert_eq!(
        fields(&spec),
        [
            "spec.resourceQuota",
            "spec.limitRange",
            "spec.dedicatedReplicas"
        ]
    );
}

#[test]
fn emails_are_checked_each_and_for_duplicates() {
    for good in [
        "a@b.co",
        "first.last+tag@sub.example.org",
        "x_y@xn--bcher-kva.example",
    ] {
        assert!(valid_email(good), "{good}");
    }
    for bad in [
        "",
        "plain",
        "@example.com",
        "a@",
        "a@localhost",
        "a b@example.com",
        "a@@example.com",
        "a@exa mple.com",
        ".a@example.com",
        "a..b@example.com",
        "a@-example.com",
        "a@example..com",
        "a<b>@example.com",
    ] {
        assert!(!valid_email(bad), "{bad:?} accepted");
    }
    assert!(!valid_email(&format!("{}@example.com", "a".repeat(65))));

    let spec = TenantSpec {
        admin_emails: vec![
            "ops@acme.example".into(),
            "not-an-email".into(),
            "OPS@acme.example".into(),
        ],
        ..namespaced()
    };
    let errors = spec.validate().unwrap_err();
    assert_eq!(
        errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
        ["spec.adminEmails[1]", "spec.adminEmails[2]"]
    );
    assert!(errors[1].message.contains("listed twice"), "{errors:?}");

    assert_eq!(
        fields(&TenantSpec {
            admin_emails: vec![],
            ..shared()
        }),
        ["spec.adminEmails"]
    );
    let many = (0..21).map(|i| format!("admin{i}@acme.example")).collect();
    assert_eq!(
        fields(&TenantSpec {
            admin_emails: many,
            ..shared()
        }),
        ["spec.adminEmails"]
    );
}

#[test]
fn dedicated_replicas_are_bounded_and_name_known_services() {
    let mut spec = namespaced();
    spec.dedicated_replicas = BTreeMap::from([("tagging".into(), 20), ("content".into(), 0)]);
    assert_eq!(spec.validate(), Ok(()));

    spec.dedicated_replicas = BTreeMap::from([
        ("tagging".into(), 21),
        ("content".into(), -1),
        ("postgres".into(), 1),
    ]);
    assert_eq!(
        fields(&spec),
        [
            "spec.dedicatedReplicas.content",
            "spec.dedicatedReplicas.postgres",
            "spec.dedicatedReplicas.tagging",
        ]
    );
}

#[test]
fn feature_flag_names_follow_the_auth_service() {
    assert!(valid_flag_name("video.export"));
    assert!(valid_flag_name(&"a".repeat(64)));
    assert!(!valid_flag_name(""));
    assert!(!valid_flag_name(&"a".repeat(65)));
    assert!(!valid_flag_name("Video"));
    assert!(!valid_flag_name("with space"));

    let mut spec = shared();
    spec.feature_flags = BTreeMap::from([("Beta".into(), true), ("ok".into(), true)]);
    assert_eq!(fields(&spec), ["spec.featureFlags.Beta"]);
    spec.feature_flags = BTreeMap::from([("plan".into(), true), ("disabled".into(), false)]);
    assert_eq!(
        fields(&spec),
        ["spec.featureFlags.disabled", "spec.featureFlags.plan"]
    );
    spec.feature_flags = (0..99).map(|i| (format!("flag{i}"), true)).collect();
    assert_eq!(fields(&spec), ["spec.featureFlags"]);
    spec.feature_flags = (0..98).map(|i| (format!("flag{i}"), true)).collect();
    assert!(spec.validate().is_ok());
}

#[test]
fn quantities_parse_to_base_units() {
    assert_eq!(parse_quantity("500m"), Some(0.5));
    assert_eq!(parse_quantity("2"), Some(2.0));
    assert_eq!(parse_quantity("1.5"), Some(1.5));
    assert_eq!(parse_quantity("1Ki"), Some(1024.0));
    assert_eq!(parse_quantity("2Gi"), Some(2.0 * 1024.0 * 1024.0 * 1024.0));
    assert_eq!(parse_quantity("10G"), Some(1e10));
    for bad in [
        "", "m", "1.", ".5", "1e3", "-1", "1gi", "1 Gi", "1KiB", "1.2.3",
    ] {
        assert_eq!(parse_quantity(bad), None, "{bad:?}");
    }
}

#[test]
fn quota_and_limit_range_are_consistent() {
    let mut spec = namespaced();
    let quota = spec.resource_quota.as_mut().unwrap();
    quota.requests_cpu = Some("9".into()); // above limitsCpu 8
    quota.limits_memory = "lots".into();
    quota.pods = "0".into();
    quota.services = Some("1k".into());
    assert_eq!(
        fields(&spec),
        [
            "spec.resourceQuota.limitsMemory",
            "spec.resourceQuota.services",
            "spec.resourceQuota.pods",
            "spec.resourceQuota.requestsCpu",
        ]
    );

    let mut spec = namespaced();
    let limits = spec.limit_range.as_mut().unwrap();
    limits.default_request.as_mut().unwrap().memory = Some("1Gi".into()); // above 512Mi
    limits.default.as_mut().unwrap().cpu = Some("16".into()); // above the quota's 8
    assert_eq!(
        fields(&spec),
        [
            "spec.limitRange.default.cpu",
            "spec.limitRange.defaultRequest.memory"
        ]
    );
}

#[test]
fn display_name_must_not_be_blank() {
    assert_eq!(
        fields(&TenantSpec {
            display_name: "   ".into(),
            ..shared()
        }),
        ["spec.displayName"]
    );
    assert_eq!(
        fields(&TenantSpec {
            display_name: "x".repeat(101),
            ..shared()
        }),
        ["spec.displayName"]
    );
}

#[test]
fn tenant_name_leaves_room_for_the_namespace() {
    let tenant = |name: &str| Tenant {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        spec: namespaced(),
        status: None,
    };
    assert_eq!(tenant("acme").validate(), Ok(()));
    assert_eq!(
        tenant("acme").namespace_name().as_deref(),
        Some("tenant-acme")
    );
    assert_eq!(tenant(&"a".repeat(MAX_TENANT_NAME)).validate(), Ok(()));
    for bad in [
        "Acme",
        "-acme",
        "acme.corp",
        &"a".repeat(MAX_TENANT_NAME + 1),
    ] {
        let errors = tenant(bad).validate().unwrap_err();
        assert_eq!(errors[0].field, "metadata.name", "{bad}");
    }
    let mut shared_tenant = tenant("shop");
    shared_tenant.spec = shared();
    assert_eq!(shared_tenant.namespace_name(), None);
}

#[test]
fn manifests_round_trip_with_the_crd_field_names() {
    let manifest = serde_json::json!({
        "apiVersion": "marquee.dev/v1",
        "kind": "Tenant",
        "metadata": { "name": "acme" },
        "spec": {
            "displayName": "Acme Corp",
            "plan": "business",
            "isolation": "namespace",
            "resourceQuota": { "limitsCpu": "8", "limitsMemory": "16Gi", "pods": "100" },
            "adminEmails": ["ops@acme.example"],
            "dedicatedReplicas": { "tagging": 2 },
        },
    });
    let tenant: Tenant = serde_json::from_value(manifest.clone()).unwrap();
    assert_eq!(tenant.spec.plan, Plan::Business);
    assert_eq!(tenant.spec.dedicated_replicas["tagging"], 2);
    assert_eq!(tenant.validate(), Ok(()));
    assert_eq!(serde_json::to_value(&tenant).unwrap(), manifest);

    let enterprise = serde_json::json!({ "plan": "enterprise" });
    assert!(serde_json::from_value::<Plan>(enterprise["plan"].clone()).is_err());
}

fn fixture(name: &str) -> Vec<Tenant> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/check/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_saphyr::from_multiple(&text).unwrap()
}

#[test]
fn deploy_check_examples_pass_validate() {
    let tenants = fixture("tenant-example.yaml");
    assert_eq!(tenants.len(), 3);
    for tenant in &tenants {
        assert_eq!(tenant.validate(), Ok(()), "{:?}", tenant.metadata.name);
    }
    let globex = &tenants[2];
    let status = globex.status.as_ref().unwrap();
    assert_eq!(status.namespace, globex.namespace_name());
    assert_eq!(status.conditions[0].type_, "Ready");
}
