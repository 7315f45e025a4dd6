//! Schema migrations, applied at start-up and by `marquee-auth migrate`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(M0001Initial),
            Box::new(M0002ExternalSignIn),
            Box::new(M0003LoginSources),
            Box::new(M0004Invitations),
            Box::new(M0005AccountTokens),
            Box::new(M0006SealedSigningKeys),
            Box::new(M0007Revocations),
        ]
    }

    fn migration_table_name() -> DynIden {
        "auth_migrations".into_iden()
    }
}

#[derive(DeriveMigrationName)]
struct M0001Initial;

#[async_trait::async_trait]
impl MigrationTrait for M0001Initial {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tenants::Table)
                    .col(string(Tenants::Id).primary_key())
                    .col(string(Tenants::Name))
                    .col(string_uniq(Tenants::Slug))
                    .col(boolean(Tenants::Sandbox))
                    .col(json_binary(Tenants::Flags))
                    .col(timestamp_with_time_zone(Tenants::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(string(Users::Id).primary_key())
                    .col(string(Users::TenantId))
                    .col(string(Users::Email))
                    .col(string(Users::PasswordHash))
                    .col(string(Users::DisplayName))
                    .col(string(Users::Roles))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("users_tenant_email_key")
                    .table(Users::Table)
                    .col(Users::TenantId)
                    .col(Users::Email)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(string(RefreshTokens::Id).primary_key())
                    .col(string(RefreshTokens::FamilyId))
                    .col(string(RefreshTokens::UserId))
                    .col(string(RefreshTokens::TenantId))
                    .col(string_uniq(RefreshTokens::TokenHash))
                    .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                    .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::UsedAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("refresh_tokens_family_idx")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::FamilyId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .col(string(SigningKeys::Kid).primary_key())
                    .col(text(SigningKeys::PrivateKey))
                    .col(string(SigningKeys::PublicKey))
                    .col(timestamp_with_time_zone(SigningKeys::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OauthClients::Table)
                    .col(string(OauthClients::Id).primary_key())
                    .col(string(OauthClients::TenantId))
                    .col(string(OauthClients::Name))
                    .col(string(OauthClients::Scopes))
                    .col(string(OauthClients::Environment))
                    .col(string(OauthClients::RateTier))
                    .col(string(OauthClients::SecretHash))
                    .col(string(OauthClients::CreatedBy))
                    .col(timestamp_with_time_zone(OauthClients::CreatedAt))
                    .col(timestamp_with_time_zone_null(OauthClients::RevokedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(string(AuditLog::Id).primary_key())
                    .col(string(AuditLog::TenantId))
                    .col(string(AuditLog::ActorId))
                    .col(string(AuditLog::Action))
                    .col(string(AuditLog::Outcome))
                    .col(string(AuditLog::Ip))
                    .col(string(AuditLog::UserAgent))
                    .col(text(AuditLog::Detail))
                    .col(timestamp_with_time_zone(AuditLog::OccurredAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_log_tenant_id_idx")
                    .table(AuditLog::Table)
                    .col(AuditLog::TenantId)
                    .col(AuditLog::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LoginThrottle::Table)
                    .col(string(LoginThrottle::Key).primary_key())
                    .col(integer(LoginThrottle::Failures))
                    .col(timestamp_with_time_zone(LoginThrottle::WindowStartedAt))
                    .col(timestamp_with_time_zone_null(LoginThrottle::LockedUntil))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            LoginThrottle::Table.into_iden(),
            AuditLog::Table.into_iden(),
            OauthClients::Table.into_iden(),
            SigningKeys::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Users::Table.into_iden(),
            Tenants::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Sign-in with external OpenID Connect providers: sign-ins in progress, and the links
/// from a provider's account to a user.
struct M0002ExternalSignIn;

/// Named by hand: `DeriveMigrationName` names a migration after its file, which the
/// first migration already took.
impl MigrationName for M0002ExternalSignIn {
    fn name(&self) -> &str {
        "m0002_external_sign_in"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002ExternalSignIn {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OidcSignIns::Table)
                    .col(string(OidcSignIns::StateHash).primary_key())
                    .col(string(OidcSignIns::Provider))
                    .col(string(OidcSignIns::Nonce))
                    .col(string(OidcSignIns::CodeVerifier))
                    .col(text(OidcSignIns::RedirectUri))
                    .col(timestamp_with_time_zone(OidcSignIns::CreatedAt))
                    .col(timestamp_with_time_zone(OidcSignIns::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("oidc_sign_ins_expires_at_idx")
                    .table(OidcSignIns::Table)
                    .col(OidcSignIns::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ExternalIdentities::Table)
                    .col(string(ExternalIdentities::Id).primary_key())
                    .col(string(ExternalIdentities::Provider))
                    .col(string(ExternalIdentities::Subject))
                    .col(string(ExternalIdentities::UserId))
                    .col(string(ExternalIdentities::TenantId))
                    .col(string(ExternalIdentities::Email))
                    .col(timestamp_with_time_zone(ExternalIdentities::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("external_identities_provider_subject_key")
                    .table(ExternalIdentities::Table)
                    .col(ExternalIdentities::Provider)
                    .col(ExternalIdentities::Subject)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("external_identities_user_idx")
                    .table(ExternalIdentities::Table)
                    .col(ExternalIdentities::TenantId)
                    .col(ExternalIdentities::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ExternalIdentities::Table.into_iden(),
            OidcSignIns::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Sign-in throttling per (account, source): each source's failures against an account,
/// its progressive wait, and when it last signed in (a known source is not held back by
/// other sources' failures).
struct M0003LoginSources;

/// Named by hand, as [`M0002ExternalSignIn`].
impl MigrationName for M0003LoginSources {
    fn name(&self) -> &str {
        "m0003_login_sources"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0003LoginSources {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginSources::Table)
                    .col(string(LoginSources::AccountKey))
                    .col(string(LoginSources::Source))
                    .col(integer(LoginSources::Failures))
                    .col(timestamp_with_time_zone_null(LoginSources::LastFailureAt))
                    .col(timestamp_with_time_zone_null(LoginSources::LockedUntil))
                    .col(timestamp_with_time_zone_null(LoginSources::LastSuccessAt))
                    .primary_key(
                        Index::create()
                            .col(LoginSources::AccountKey)
                            .col(LoginSources::Source),
                    )
                    .to_owned(),
            )
            .await?;
        // `account:` rows now count failures from every source against a much higher
        // cap; the old counts (5 locked the account) would lock owners out after upgrade.
        manager
            .exec_stmt(
                Query::delete()
                    .from_table(LoginThrottle::Table)
                    .and_where(Expr::col(LoginThrottle::Key).like("account:%"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LoginSources::Table).to_owned())
            .await
    }
}

/// Invitations to join a tenant: bound to an e-mail, carrying a role, single use,
/// expiring; the token only as its SHA-256 hash.
struct M0004Invitations;

/// Named by hand, as [`M0002ExternalSignIn`].
impl MigrationName for M0004Invitations {
    fn name(&self) -> &str {
        "m0004_invitations"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0004Invitations {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Invitations::Table)
                    .col(string(Invitations::Id).primary_key())
                    .col(string(Invitations::TenantId))
                    .col(string(Invitations::Email))
                    .col(string(Invitations::Role))
                    .col(string_uniq(Invitations::TokenHash))
                    .col(string(Invitations::CreatedBy))
                    .col(timestamp_with_time_zone(Invitations::CreatedAt))
                    .col(timestamp_with_time_zone(Invitations::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Invitations::AcceptedAt))
                    .col(string_null(Invitations::AcceptedBy))
                    .col(timestamp_with_time_zone_null(Invitations::RevokedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("invitations_tenant_created_idx")
                    .table(Invitations::Table)
                    .col(Invitations::TenantId)
                    .col(Invitations::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Invitations::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    Id,
    TenantId,
    Email,
    Role,
    TokenHash,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    AcceptedAt,
    AcceptedBy,
    RevokedAt,
}

/// E-mail verification and password reset: single-use, expiring tokens (stored only as
/// SHA-256 hashes) and when a user's address was verified.
struct M0005AccountTokens;

/// Named by hand, as [`M0002ExternalSignIn`].
impl MigrationName for M0005AccountTokens {
    fn name(&self) -> &str {
        "m0005_account_tokens"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0005AccountTokens {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(VerifiedUsers::Table)
                    .add_column(timestamp_with_time_zone_null(
                        VerifiedUsers::EmailVerifiedAt,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccountTokens::Table)
                    .col(string(AccountTokens::Id).primary_key())
                    .col(string_uniq(AccountTokens::TokenHash))
                    .col(string(AccountTokens::Purpose))
                    .col(string(AccountTokens::TenantId))
                    .col(string(AccountTokens::UserId))
                    .col(string(AccountTokens::Email))
                    .col(timestamp_with_time_zone(AccountTokens::CreatedAt))
                    .col(timestamp_with_time_zone(AccountTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(AccountTokens::UsedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("account_tokens_user_purpose_idx")
                    .table(AccountTokens::Table)
                    .col(AccountTokens::TenantId)
                    .col(AccountTokens::UserId)
                    .col(AccountTokens::Purpose)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AccountTokens::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(VerifiedUsers::Table)
                    .drop_column(VerifiedUsers::EmailVerifiedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum AccountTokens {
    Table,
    Id,
    TokenHash,
    Purpose,
    TenantId,
    UserId,
    Email,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

/// The `users` table's column that m0005 adds.
#[derive(DeriveIden)]
enum VerifiedUsers {
    #[sea_orm(iden = "users")]
    Table,
    EmailVerifiedAt,
}

#[derive(DeriveIden)]
enum LoginSources {
    Table,
    AccountKey,
    Source,
    Failures,
    LastFailureAt,
    LockedUntil,
    LastSuccessAt,
}

#[derive(DeriveIden)]
enum OidcSignIns {
    Table,
    StateHash,
    Provider,
    Nonce,
    CodeVerifier,
    RedirectUri,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum ExternalIdentities {
    Table,
    Id,
    Provider,
    Subject,
    UserId,
    TenantId,
    Email,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    Name,
    Slug,
    Sandbox,
    Flags,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    TenantId,
    Email,
    PasswordHash,
    DisplayName,
    Roles,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    FamilyId,
    UserId,
    TenantId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Kid,
    PrivateKey,
    PublicKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    Id,
    TenantId,
    Name,
    Scopes,
    Environment,
    RateTier,
    SecretHash,
    CreatedBy,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    TenantId,
    ActorId,
    Action,
    Outcome,
    Ip,
    UserAgent,
    Detail,
    OccurredAt,
}

#[derive(DeriveIden)]
enum LoginThrottle {
    Table,
    Key,
    Failures,
    WindowStartedAt,
    LockedUntil,
}

/// Signing keys stored sealed (envelope encryption, `marquee-envelope`): the column for
/// the sealed private key. Existing keys are sealed at start-up, where the key-encryption
/// key is at hand (`domain::keys`), and their plaintext column emptied.
struct M0006SealedSigningKeys;

/// Named by hand, as [`M0002ExternalSignIn`].
impl MigrationName for M0006SealedSigningKeys {
    fn name(&self) -> &str {
        "m0006_sealed_signing_keys"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0006SealedSigningKeys {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SigningKeys::Table)
                    .add_column(text_null(SealedSigningKeys::PrivateKeySealed))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SigningKeys::Table)
                    .drop_column(SealedSigningKeys::PrivateKeySealed)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum SealedSigningKeys {
    PrivateKeySealed,
}

/// Sessions that really end: the access-token revocations the gateway enforces, and
/// users an admin disabled.
struct M0007Revocations;

/// Named by hand, as [`M0002ExternalSignIn`].
impl MigrationName for M0007Revocations {
    fn name(&self) -> &str {
        "m0007_revocations"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0007Revocations {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Revocations::Table)
                    .col(string(Revocations::Id).primary_key())
                    .col(string(Revocations::Kind))
                    .col(string(Revocations::Value))
                    .col(timestamp_with_time_zone(Revocations::NotBefore))
                    .col(timestamp_with_time_zone(Revocations::CreatedAt))
                    .col(timestamp_with_time_zone(Revocations::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        // The gateway polls by creation time; expired rows are deleted by expiry.
        for (name, column) in [
            ("idx_revocations_created_at", Revocations::CreatedAt),
            ("idx_revocations_expires_at", Revocations::ExpiresAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Revocations::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(DisabledUsers::Table)
                    .add_column(timestamp_with_time_zone_null(DisabledUsers::DisabledAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(DisabledUsers::Table)
                    .drop_column(DisabledUsers::DisabledAt)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Revocations::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Revocations {
    Table,
    Id,
    Kind,
    Value,
    NotBefore,
    CreatedAt,
    ExpiresAt,
}

/// The `users` table's column that m0007 adds.
#[derive(DeriveIden)]
enum DisabledUsers {
    #[sea_orm(iden = "users")]
    Table,
    DisabledAt,
}
