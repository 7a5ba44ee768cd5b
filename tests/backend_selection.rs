//! Backend selection: builder option > `EXMC_BACKEND` > auto (hardware GPU, else CPU). One test
//! in its own binary, because it sets process environment variables.

mod common;

use exmc::prelude::*;

#[test]
fn builder_option_then_environment_then_auto() {
    let mut m = Model::new();
    let mu = m.rv("mu", Normal::new(0.0, 5.0)).unwrap();
    m.observe("x", Normal::new(mu, 1.0), &[1.0, 2.0]).unwrap();
    let run = |b: BackendChoice| {
        Sampler::new(&m).chains(2).warmup(20).draws(10).seed(1).backend(b).progress(false).run()
    };
    let set = |v: &str| unsafe { std::env::set_var("EXMC_BACKEND", v) };

    set("cpu");
    assert_eq!(run(BackendChoice::Auto).unwrap().backend, "cpu");
    set("tpu");
    let err = run(BackendChoice::Auto).unwrap_err();
    assert!(matches!(err, Error::InvalidOption { option: "EXMC_BACKEND", .. }), "{err:?}");
    // An explicit builder choice wins over the environment.
    assert_eq!(run(BackendChoice::Cpu).unwrap().backend, "cpu");
    set("gpu");
    match common::gpu("EXMC_BACKEND=gpu part") {
        Some(gpu) => {
            let fit = run(BackendChoice::Auto).unwrap();
            assert_eq!(fit.backend, format!("gpu ({}; one invocation per chain)", gpu.name()));
        }
        None => assert!(matches!(run(BackendChoice::Auto), Err(Error::Backend { backend: "gpu", .. }))),
    }
    unsafe { std::env::remove_var("EXMC_BACKEND") };
    let expected = if exmc::backend::gpu::device::hardware_adapter().is_some() { "gpu" } else { "cpu" };
    assert!(run(BackendChoice::Auto).unwrap().backend.starts_with(expected));
}
