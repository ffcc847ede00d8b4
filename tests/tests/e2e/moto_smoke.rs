//! The moto test support (`chaos_test_support::moto`): a server answers EC2 Query API calls, each
//! `Moto` has its own port, and dropping one stops its server.

use chaos_test_support::moto::Moto;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

fn accepts(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

#[test]
fn answers_describe_instances() {
    let moto = Moto::start();
    moto.reset();
    let (code, body) = moto.ec2_query("Action=DescribeInstances&Version=2016-11-15");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("<DescribeInstancesResponse"), "{body}");
    assert!(body.contains("<reservationSet"), "{body}");
    let env = moto.env();
    assert!(env.contains(&("AWS_ENDPOINT_URL", moto.url())), "{env:?}");
    assert!(
        env.contains(&("AWS_REGION", "us-east-1".to_owned())),
        "{env:?}"
    );
}

#[test]
fn servers_are_separate_and_stop_when_dropped() {
    let a = Moto::start();
    let b = Moto::start();
    assert_ne!(a.port(), b.port());
    assert_ne!(a.url(), b.url());
    assert!(a.url().starts_with("http://127.0.0.1:"), "{}", a.url());

    // State is not shared: a key pair made on `a` is not on `b`; reset forgets it.
    let (code, body) = a.ec2_query("Action=CreateKeyPair&Version=2016-11-15&KeyName=only-on-a");
    assert_eq!(code, 200, "{body}");
    let describe = "Action=DescribeKeyPairs&Version=2016-11-15";
    assert!(a.ec2_query(describe).1.contains("only-on-a"));
    assert!(!b.ec2_query(describe).1.contains("only-on-a"));
    a.reset();
    assert!(!a.ec2_query(describe).1.contains("only-on-a"));

    let port = a.port();
    assert!(accepts(port));
    drop(a);
    // Drop waits for the process; the port closes with it.
    let deadline = Instant::now() + Duration::from_secs(5);
    while accepts(port) {
        assert!(
            Instant::now() < deadline,
            "port {port} still accepts after drop"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        accepts(b.port()),
        "dropping one server must not stop the other"
    );
}
