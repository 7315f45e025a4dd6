//! pgvector where the PostgreSQL server has it (CI's `pgvector/pgvector` image), the
//! exact index where it doesn't (Debian's PostgreSQL on the development machines): the
//! same searches give the same answers either way, and asking for pgvector on a server
//! without it is a clear start-up error.

use super::flow::{processed, search, tagging, user};
use marquee_platform::Role;
use marquee_tagging::domain::index::VectorSearch as _;
use marquee_tagging::inference::EMBEDDING_DIM;
use marquee_tagging::store::pgvector::{self, PgVectorSearch};
use marquee_testkit::{Backend, TestDb};
use std::sync::Arc;

const ASSETS: [(&str, &str, &str); 3] = [
    (
        "bread",
        "Rustic sourdough loaf on linen",
        "Crusty sourdough boule, flour dusting.",
    ),
    (
        "sales",
        "Quarterly sales dashboard template",
        "Revenue charts and KPI tiles.",
    ),
    (
        "beach",
        "Tropical beach at sunset",
        "Palm trees, turquoise water, golden light.",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgvector_where_the_server_has_it_exact_search_where_it_does_not() {
    let db = TestDb::create(Backend::Postgres, "tagging_pgvector").await;
    let exact = tagging(&db, 0).await;
    for (id, title, description) in ASSETS {
        let (envelope, asset) = processed(id, "document", title, description, true);
        exact
            .tag_processed("tagging", &envelope, asset)
            .await
            .unwrap();
    }
    let buyer = user("buyer", Role::Creator);
    let ids = |page: marquee_tagging::domain::search::Page| -> Vec<String> {
        page.hits
            .into_iter()
            .map(|h| h.asset.asset_id.clone())
            .collect()
    };
    let by_exact = ids(exact.search(&buyer, search("artisan bread")).await.unwrap());
    assert_eq!(by_exact.first().map(String::as_str), Some("bread"));
    assert_eq!(exact.vector_search(), "exact");

    let connection = marquee_tagging::open_database(&marquee_tagging::TaggingSettings {
        database_url: Some(db.url().to_string().into()),
        data_dir: db.data_dir().to_path_buf(),
        ..Default::default()
    })
    .await
    .unwrap();
    if !pgvector::available(&connection).await.unwrap() {
        // This server can't: the exact index answered above, and that is all there is.
        eprintln!("no pgvector on this server: exact search only");
        return;
    }
    let replica = tagging(&db, 0).await;
    replica.sync_index(None).await.unwrap();
    let search_path = PgVectorSearch::enable(connection, replica.index().clone(), EMBEDDING_DIM)
        .await
        .unwrap();
    assert_eq!(search_path.name(), "pgvector");
    let replica = replica.with_vector_search(Arc::new(search_path));
    let by_pgvector = ids(replica
        .search(&buyer, search("artisan bread"))
        .await
        .unwrap());
    assert_eq!(by_pgvector, by_exact, "HNSW over three vectors is exact");
    let similar = ids(replica.similar(&buyer, "bread", 5).await.unwrap());
    assert!(!similar.contains(&"bread".to_string()) && similar.len() == 2);
}

#[tokio::test]
async fn sqlite_never_offers_pgvector() {
    let db = TestDb::create(Backend::Sqlite, "tagging_no_pgvector").await;
    let connection = marquee_tagging::open_database(&marquee_tagging::TaggingSettings {
        database_url: Some(db.url().to_string().into()),
        data_dir: db.data_dir().to_path_buf(),
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(!pgvector::available(&connection).await.unwrap());
}
