//! A toxic added by an experiment is gone once the run has ended, whatever ended it, with no
//! rollback written: one case per ending.

use super::support::{echo, round_trip};
use crate::event::ActivityStatus;
use crate::interrupt::Interrupt;
use crate::model::{Action, Experiment, Probe, RollbackStrategy};
use crate::outcome::Outcome;
use crate::run::Runner;
use crate::target::proxy::{Proxy, Toxic};
use crate::Context;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// How the method ends after adding the toxic.
#[derive(Clone, Copy, Debug)]
enum Ending {
    Passes,
    ActionFails,
    Deviates,
    Panics,
    TimesOut,
    Signal,
    StrategyNever,
}

fn experiment(proxy: &Proxy, ending: Ending) -> Experiment {
    let p = proxy.clone();
    let mut b = Experiment::builder(format!("revert::{ending:?}"))
        .steady_state(Probe::new("up", |_cx| async { Ok(true) }).tolerance("true", |v| *v))
        .method(Action::new("add latency", move |cx: Context| {
            let p = p.clone();
            async move {
                p.add(&cx, Toxic::latency(Duration::from_millis(300)))?;
                p.add(&cx, Toxic::limit_data(1 << 30).upstream())?;
                Ok(())
            }
        }));
    b = match ending {
        Ending::Passes => b,
        Ending::ActionFails => b.method(Action::new("fail", |_cx| async {
            Err::<(), _>("boom".into())
        })),
        Ending::Deviates => {
            b.method(Probe::new("miss", |_cx| async { Ok(1u8) }).tolerance("== 2", |v| *v == 2))
        }
        Ending::Panics => b.method(Action::new("panic", |_cx| async {
            if true {
                panic!("the action panicked");
            }
            Ok(())
        })),
        Ending::TimesOut => {
            b.timeout(Duration::from_millis(300))
                .method(Action::new("hang", |_cx| async {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    Ok(())
                }))
        }
        Ending::Signal => b.method(Action::new("wait", |_cx| async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(())
        })),
        Ending::StrategyNever => b.rollback_strategy(RollbackStrategy::Never),
    };
    b.build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_ending_leaves_the_proxy_clean() {
    let proxy = Proxy::listen("db", echo().await.to_string()).await.unwrap();
    let cases = [
        (Ending::Passes, Outcome::Passed),
        (Ending::ActionFails, Outcome::ActivityFailed),
        (Ending::Deviates, Outcome::Deviated),
        (Ending::Panics, Outcome::ActivityFailed),
        (Ending::TimesOut, Outcome::Aborted),
        (Ending::Signal, Outcome::Interrupted),
        (Ending::StrategyNever, Outcome::Passed),
    ];
    for (ending, outcome) in cases {
        let exp = experiment(&proxy, ending);
        let mut runner = Runner::new();
        if let Ending::Signal = ending {
            let (trigger, interrupt) = Interrupt::manual();
            runner = runner.interrupt(interrupt);
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                trigger.raise();
            });
        }
        let cx = Context::builder()
            .experiment(exp.name.clone())
            .seed(9)
            .build();
        let report = runner.run(&exp, cx).await;
        assert_eq!(report.outcome, outcome, "{ending:?}: {report:?}");
        assert!(
            proxy.toxics().is_empty(),
            "{ending:?} left {:?}",
            proxy.toxics()
        );
        let undone: Vec<_> = report.rollbacks.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            undone,
            [
                "proxy `db`: remove `limit_data_upstream`",
                "proxy `db`: remove `latency_downstream`"
            ],
            "{ending:?}: latest first"
        );
        assert!(report
            .rollbacks
            .iter()
            .all(|r| r.status == ActivityStatus::Succeeded));
        let recorded: Vec<_> = report
            .targets
            .iter()
            .map(|t| t["added"]["name"].clone())
            .collect();
        assert_eq!(
            recorded,
            ["latency_downstream", "limit_data_upstream"],
            "{ending:?}"
        );
        assert_eq!(report.targets[0]["seed"], 9);
        // And traffic is fast again.
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        let t = Instant::now();
        round_trip(&mut s, b"after").await.unwrap();
        assert!(t.elapsed() < Duration::from_millis(200), "{ending:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_toxic_removed_by_hand_is_not_a_failed_rollback() {
    let proxy = Proxy::listen("db", echo().await.to_string()).await.unwrap();
    let p = proxy.clone();
    let exp = Experiment::builder("revert::by_hand")
        .steady_state(Probe::new("up", |_cx| async { Ok(true) }).tolerance("true", |v| *v))
        .method(Action::new("add and remove", move |cx: Context| {
            let p = p.clone();
            async move {
                p.add(&cx, Toxic::down())?;
                p.remove("down_downstream")?;
                Ok(())
            }
        }))
        .build()
        .unwrap();
    let report = Runner::new().run(&exp, Context::builder().build()).await;
    assert_eq!(report.outcome, Outcome::Passed, "{report:?}");
    assert_eq!(report.rollbacks.len(), 1);
}
