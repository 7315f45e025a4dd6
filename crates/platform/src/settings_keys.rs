//! Which environment variables a settings type reads, derived from the type itself: its
//! `Serialize` (of the defaults) is walked, every field that holds a value becomes a key
//! (`rate_limit.anonymous_per_minute`) and every map-typed field (names chosen by the
//! operator, such as `identity.trusted.<service>`) a key prefix. Secrets serialize
//! redacted ([`redact`]); only the shape matters here.
//!
//! `marquee settings-manifest` turns these into the variables of each service
//! (`deploy/check/settings-manifest.json`), so the deploy checks can hold the chart to
//! what the code reads.

use serde::ser::{self, Serialize};
use std::collections::BTreeSet;

/// The keys of a settings type, dotted (`mail.smtp_url`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Keys {
    /// Fields holding one value (lists included: env gives them comma-separated).
    pub values: BTreeSet<String>,
    /// Map-typed fields: every `<key>.<name>` below them is read.
    pub maps: BTreeSet<String>,
}

impl Keys {
    /// The keys of `settings` (normally its `Default`).
    pub fn of<T: Serialize>(settings: &T) -> Self {
        let mut keys = Self::default();
        settings
            .serialize(Walker {
                path: String::new(),
                keys: &mut keys,
            })
            .expect("walking settings cannot fail");
        keys
    }

    /// The variables they are read from under `service`'s prefix and the shared one
    /// (`MARQUEE_<SERVICE>_<KEY>`, `MARQUEE_<KEY>`), and the prefixes of the maps'
    /// (`MARQUEE_<SERVICE>_<KEY>__`, `MARQUEE_<KEY>__`); see [`crate::config`].
    pub fn env(&self, service: &str) -> (BTreeSet<String>, BTreeSet<String>) {
        let names = |key: &str| crate::profile::env_names(service, key);
        let env = self.values.iter().flat_map(|key| names(key)).collect();
        let prefixes = self
            .maps
            .iter()
            .flat_map(|key| names(key).map(|name| format!("{name}__")))
            .collect();
        (env, prefixes)
    }
}

/// `serialize_with` helpers that keep secrets out of any serialized settings.
pub mod redact {
    use secrecy::SecretString;
    use serde::Serializer;

    const REDACTED: &str = "[redacted]";

    /// An optional secret: `null` or `"[redacted]"`.
    pub fn option<S: Serializer>(
        secret: &Option<SecretString>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match secret {
            Some(_) => serializer.serialize_some(REDACTED),
            None => serializer.serialize_none(),
        }
    }

    /// A list of secrets: as many `"[redacted]"`.
    pub fn list<S: Serializer>(secrets: &[SecretString], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(secrets.iter().map(|_| REDACTED))
    }
}

#[derive(Debug)]
pub struct WalkError(String);

impl std::fmt::Display for WalkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WalkError {}

impl ser::Error for WalkError {
    fn custom<T: std::fmt::Display>(message: T) -> Self {
        Self(message.to_string())
    }
}

/// Serializes nothing; records where values and maps are.
struct Walker<'a> {
    path: String,
    keys: &'a mut Keys,
}

impl Walker<'_> {
    fn value(self) -> Result<(), WalkError> {
        if !self.path.is_empty() {
            self.keys.values.insert(self.path);
        }
        Ok(())
    }

    fn child(&mut self, key: &str) -> Walker<'_> {
        let path = if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        };
        Walker {
            path,
            keys: self.keys,
        }
    }
}

macro_rules! values {
    ($($method:ident($type:ty)),* $(,)?) => {
        $(fn $method(self, _: $type) -> Result<(), WalkError> {
            self.value()
        })*
    };
}

impl<'a> ser::Serializer for Walker<'a> {
    type Ok = ();
    type Error = WalkError;
    type SerializeSeq = Ignore;
    type SerializeTuple = Ignore;
    type SerializeTupleStruct = Ignore;
    type SerializeTupleVariant = Ignore;
    type SerializeMap = Fields<'a>;
    type SerializeStruct = Fields<'a>;
    type SerializeStructVariant = Ignore;

    values!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_unit_struct(&'static str),
    );

    fn serialize_none(self) -> Result<(), WalkError> {
        self.value()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), WalkError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), WalkError> {
        self.value()
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), WalkError> {
        self.value()
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), WalkError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), WalkError> {
        self.value()
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Ignore, WalkError> {
        self.value()?;
        Ok(Ignore)
    }

    fn serialize_tuple(self, _: usize) -> Result<Ignore, WalkError> {
        self.value()?;
        Ok(Ignore)
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Ignore, WalkError> {
        self.value()?;
        Ok(Ignore)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Ignore, WalkError> {
        self.value()?;
        Ok(Ignore)
    }

    /// The top level is a map when the settings flatten `common`: its entries are
    /// fields. Below it, a map is a map.
    fn serialize_map(self, _: Option<usize>) -> Result<Fields<'a>, WalkError> {
        let is_map = !self.path.is_empty();
        if is_map {
            self.keys.maps.insert(self.path.clone());
        }
        Ok(Fields {
            walker: self,
            key: None,
            is_map,
        })
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Fields<'a>, WalkError> {
        Ok(Fields {
            walker: self,
            key: None,
            is_map: false,
        })
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Ignore, WalkError> {
        self.value()?;
        Ok(Ignore)
    }
}

/// A struct's fields (or the flattened top level's entries), walked.
pub struct Fields<'a> {
    walker: Walker<'a>,
    key: Option<String>,
    /// A real map: its entries are not walked.
    is_map: bool,
}

impl ser::SerializeStruct for Fields<'_> {
    type Ok = ();
    type Error = WalkError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), WalkError> {
        value.serialize(self.walker.child(key))
    }

    fn end(self) -> Result<(), WalkError> {
        Ok(())
    }
}

impl ser::SerializeMap for Fields<'_> {
    type Ok = ();
    type Error = WalkError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), WalkError> {
        if !self.is_map {
            self.key = Some(key.serialize(KeyName)?);
        }
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), WalkError> {
        match self.key.take() {
            Some(key) => value.serialize(self.walker.child(&key)),
            None => Ok(()),
        }
    }

    fn end(self) -> Result<(), WalkError> {
        Ok(())
    }
}

/// Discards what it is given.
pub struct Ignore;

macro_rules! ignore {
    ($($trait:ident :: $method:ident),* $(,)?) => {
        $(impl ser::$trait for Ignore {
            type Ok = ();
            type Error = WalkError;

            fn $method<T: Serialize + ?Sized>(&mut self, _: &T) -> Result<(), WalkError> {
                Ok(())
            }

            fn end(self) -> Result<(), WalkError> {
                Ok(())
            }
        })*
    };
}

ignore!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

impl ser::SerializeStructVariant for Ignore {
    type Ok = ();
    type Error = WalkError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        _: &'static str,
        _: &T,
    ) -> Result<(), WalkError> {
        Ok(())
    }

    fn end(self) -> Result<(), WalkError> {
        Ok(())
    }
}

/// A map key as a string (settings keys are strings).
struct KeyName;

impl ser::Serializer for KeyName {
    type Ok = String;
    type Error = WalkError;
    type SerializeSeq = ser::Impossible<String, WalkError>;
    type SerializeTuple = ser::Impossible<String, WalkError>;
    type SerializeTupleStruct = ser::Impossible<String, WalkError>;
    type SerializeTupleVariant = ser::Impossible<String, WalkError>;
    type SerializeMap = ser::Impossible<String, WalkError>;
    type SerializeStruct = ser::Impossible<String, WalkError>;
    type SerializeStructVariant = ser::Impossible<String, WalkError>;

    fn serialize_str(self, value: &str) -> Result<String, WalkError> {
        Ok(value.to_string())
    }

    fn serialize_bool(self, _: bool) -> Result<String, WalkError> {
        Err(ser::Error::custom("settings keys are strings"))
    }
    fn serialize_i8(self, _: i8) -> Result<String, WalkError> {
        self.serialize_bool(false)
    }
    fn serialize_i16(self, _: i16) -> Result<String, WalkError> {
        self.serialize_bool(false)
    }
    fn serialize_i32(self, _: i32) -> Result<String, WalkError> {
        self.serialize_bool(false)
    }
    fn serialize_i64(self, _: i64) -> Result<String, WalkError> {
        self.serialize_bool(false)
    }
    fn serialize_u8(self, _: u8) -> Result<String, WalkError> {
        self.serialize_bool(false)
    }
    fn serialize_u16(self, _: u16) -> Result<String, WalkError> {
        self.serialize_bool(false)
    }
    fn serialize_u32(self, _: u32) -> Result<String, WalkError> {
        self.serialize_bool(false)
    }
    fn serialize_u64(self, _: u64) -> Result<String, WalkError> {
        self.serialize_bool(false)
    }
    fn serialize_f32(self, _: f32) -> Result<String, WalkError> {
        self.serialize_bool(false)
    }
    fn serialize_f64(self, _: f64) -> Result<String, WalkError> {
        self.serialize_bool(false)
    }
    fn serialize_char(self, value: char) -> Result<String, WalkError> {
        Ok(value.to_string())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<String, WalkError> {
        self.serialize_bool(false)
    }
    fn serialize_none(self) -> Result<String, WalkError> {
        self.serialize_bool(false)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<String, WalkError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<String, WalkError> {
        self.serialize_bool(false)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String, WalkError> {
        self.serialize_bool(false)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, WalkError> {
        Ok(variant.to_string())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String, WalkError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, WalkError> {
        self.serialize_bool(false)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, WalkError> {
        Err(ser::Error::custom("settings keys are strings"))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, WalkError> {
        Err(ser::Error::custom("settings keys are strings"))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, WalkError> {
        Err(ser::Error::custom("settings keys are strings"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, WalkError> {
        Err(ser::Error::custom("settings keys are strings"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, WalkError> {
        Err(ser::Error::custom("settings keys are strings"))
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, WalkError> {
        Err(ser::Error::custom("settings keys are strings"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, WalkError> {
        Err(ser::Error::custom("settings keys are strings"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;
    use std::collections::BTreeMap;

    #[derive(Default, serde::Serialize)]
    struct Inner {
        per_minute: u64,
        names: Vec<String>,
    }

    #[derive(Default, serde::Serialize)]
    struct Sample {
        addr: String,
        #[serde(serialize_with = "redact::option")]
        database_url: Option<SecretString>,
        #[serde(serialize_with = "redact::list")]
        secrets: Vec<SecretString>,
        rate_limit: Inner,
        options: BTreeMap<String, String>,
        #[serde(skip)]
        skipped: u8,
        #[serde(flatten)]
        common: crate::config::CommonSettings,
    }

    #[test]
    fn fields_become_keys_and_maps_prefixes() {
        let sample = Sample {
            database_url: Some(SecretString::from("postgres://u:hunter2@db/x")),
            secrets: vec![SecretString::from("whsec_hunter2")],
            options: BTreeMap::from([("aws_region".into(), "x".into())]),
            skipped: 1,
            ..Default::default()
        };
        assert_eq!(sample.skipped, 1);
        let keys = Keys::of(&sample);
        for key in [
            "addr",
            "database_url",
            "secrets",
            "rate_limit.per_minute",
            "rate_limit.names",
            "profile",
            "identity.signing_key",
            "tls.cert_file",
            "log.format",
            "grpc_resolve_interval_secs",
        ] {
            assert!(keys.values.contains(key), "{key}: {keys:?}");
        }
        assert!(!keys.values.contains("skipped"));
        assert!(!keys.values.contains("options.aws_region"));
        assert!(keys.maps.contains("options"));
        assert!(keys.maps.contains("identity.trusted"));

        let (env, prefixes) = keys.env("sample");
        assert!(env.contains("MARQUEE_SAMPLE_RATE_LIMIT__PER_MINUTE"));
        assert!(env.contains("MARQUEE_RATE_LIMIT__PER_MINUTE"));
        assert!(env.contains("MARQUEE_PROFILE"));
        assert!(prefixes.contains("MARQUEE_IDENTITY__TRUSTED__"));
        assert!(prefixes.contains("MARQUEE_SAMPLE_OPTIONS__"));

        let json = serde_json::to_string(&sample).unwrap();
        assert!(!json.contains("hunter2"), "{json}");
    }
}
