//! FIGURE (issue 4): time to select 10 instances out of 5,000 matching (every page of
//! DescribeInstances included) against moto's server.
//!
//! `cargo bench -p chaos-tests --features aws --bench ec2` (creating the 5,000 instances in
//! moto takes a minute or two).

use chaos_harness::aws::{Ec2, Ec2Settings};
use chaos_harness::prelude::Select;
use chaos_harness::Context;
use chaos_test_support::moto::Moto;
use std::time::Instant;

mod common;

fn main() {
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    let moto = Moto::start();
    moto.reset();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let ec2 = Ec2::connect(Ec2Settings {
            region: Some("us-east-1".into()),
            endpoint_url: Some(moto.url()),
            ..Ec2Settings::default()
        })
        .await
        .expect("client");
        let created = Instant::now();
        // Through the SDK: moto takes a while to make a thousand instances at once.
        for _ in 0..10 {
            let tags = aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::Instance)
                .tags(aws_sdk_ec2::types::Tag::builder().key("Chaos").value("true").build())
                .build();
            ec2.client()
                .run_instances()
                .image_id("ami-12c6146b")
                .instance_type(aws_sdk_ec2::types::InstanceType::T2Micro)
                .min_count(500)
                .max_count(500)
                .tag_specifications(tags)
                .send()
                .await
                .expect("run instances");
        }
        println!("created 5,000 instances in moto in {:.1} s", created.elapsed().as_secs_f64());
        let targets = ec2.instances().tag("Chaos", "true").filter("instance-state-name", ["running"]);
        let mut times = Vec::new();
        for seed in 0..common::runs(7) as u64 {
            let cx = Context::builder().seed(seed).build();
            let started = Instant::now();
            let chosen = targets.choose(&cx, Select::random(10)).await.expect("choose");
            times.push(common::ms(started.elapsed()));
            assert_eq!(chosen.matched, 5000);
            assert_eq!(chosen.chosen.len(), 10);
        }
        println!(
            "FIGURE 6: select 10 of 5,000 matching instances (5 pages of 1,000) against moto: {:.0} ms median (min {:.0} ms, max {:.0} ms, {} runs)",
            common::median(&times),
            common::min(&times),
            common::max(&times),
            times.len()
        );
    });
}
