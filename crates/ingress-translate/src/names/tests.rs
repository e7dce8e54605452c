use super::*;

#[test]
fn fnv_and_shards_match_ako() {
    assert_eq!(fnv32a("foo.com"), 1_101_858_200);
    assert_eq!(fnv32a(""), 2_166_136_261);
    assert_eq!(shard("foo.com", 8), Some(0));
    assert_eq!(shard("bar.com", 8), Some(1));
    assert_eq!(shard("foo.com", 4), Some(0));
    assert_eq!(shard("bar.com", 4), Some(1));
    assert_eq!(shard("foo.com", 1), Some(0));
    assert_eq!(shard("bar.com", 1), Some(0));
    assert_eq!(shard("foo.com", 0), None);
    // Raw bytes: no lowercasing.
    assert_ne!(fnv32a("FOO.com"), fnv32a("foo.com"));
}

#[test]
fn sni_names() {
    let n = Names::new("cl1", false);
    assert_eq!(n.shared_vs(0), "cl1--Shared-L7-0");
    assert_eq!(n.parent_vs("bar.com", 8), "cl1--Shared-L7-1");
    assert_eq!(n.parent_vs("foo.com", 0), "cl1--foo.com-L7-dedicated");
    assert_eq!(n.child_vs("foo.com"), "cl1--foo.com");
    assert_eq!(n.certificate("foo.com"), "cl1--foo.com");
    assert_eq!(n.policy_set("default", "foo.com"), "cl1--default-foo.com");
    assert_eq!(
        n.pool_group("default", "foo.com", "/", "foo", false),
        "cl1--default-foo.com_-foo"
    );
    assert_eq!(
        n.pool("default", "foo.com", "/bar", "foo", "svc", false),
        "cl1--default-foo.com_bar-foo"
    );
    assert_eq!(
        n.insecure_pool("bar.com", "/", "default", "foo", false),
        "cl1--bar.com_-default-foo"
    );
    assert_eq!(
        n.pool_group("default", "foo.com", "/", "foo", true),
        "cl1--default-foo.com_-foo-L7-dedicated"
    );
    assert_eq!(path_part("/a/b"), "_a_b");
}

#[test]
fn evh_names_are_hashed_with_the_prefix_in_the_preimage() {
    let n = Names::new("cl1", true);
    assert_eq!(n.shared_vs(1), "cl1--Shared-L7-EVH-1");
    assert_eq!(
        n.child_vs("foo.com"),
        "cl1--97345264ac5fc7942d654f976dc6ac232e487f93"
    );
    assert_eq!(n.certificate("foo.com"), n.child_vs("foo.com"));
    assert_eq!(
        n.child_vs("bar.com"),
        "cl1--88e0221ca464ae61faab6e0f9e31a111088e1899"
    );
    assert_eq!(
        n.pool("default", "foo.com", "/", "foo", "svc", false),
        "cl1--93afe14416d15942bdf61fc251dca77f636c4149"
    );
    assert_eq!(
        n.pool("default", "bar.com", "/", "foo", "svc", false),
        "cl1--cdf3dbbe2cf37683722d145d43ba9840f134e5c7"
    );
    assert_eq!(
        n.pool_group("default", "foo.com", "/", "foo", false),
        "cl1--4e580249cfb04648cdc29478dedd35e309be3902"
    );
    assert_eq!(
        n.policy_set("default", "foo.com"),
        "cl1--96b3166f8e7d180347ef2259d90a3a51dd9b6ba7"
    );
    assert_eq!(
        n.policy_set("default", "bar.com"),
        "cl1--cf163b3cb064d93992bbc7d345d2b935571b2dbc"
    );
    let dedicated = n.dedicated_vs("foo.com");
    assert_eq!(
        dedicated,
        format!("cl1--{}-EVH", sha1_hex("cl1--foo.com-L7-dedicated"))
    );
    assert_eq!(dedicated.len(), "cl1--".len() + 40 + 4);
}

#[test]
fn shard_sizes_parse_and_count() {
    use crate::settings::ShardSize;
    assert_eq!("LARGE".parse::<ShardSize>().unwrap().shards(), 8);
    assert_eq!("MEDIUM".parse::<ShardSize>().unwrap().shards(), 4);
    assert_eq!("SMALL".parse::<ShardSize>().unwrap().shards(), 1);
    assert_eq!("DEDICATED".parse::<ShardSize>().unwrap().shards(), 0);
    let err = "HUGE".parse::<ShardSize>().unwrap_err();
    assert!(err.to_string().contains("HUGE"), "{err}");
    assert_eq!(ShardSize::default(), ShardSize::Large);
    assert_eq!(ShardSize::Medium.to_string(), "MEDIUM");
}
