package org.gantry.op.firmware.internal;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A {@link FirmwareConfig} as Declarative Services would build it from a configuration: the
 * annotation's defaults, overridden by properties the test sets by their configuration names
 * ({@code firmware.dir}).
 */
final class TestConfig {

  private final Map<String, Object> values = new HashMap<>();

  static TestConfig in(Path root) {
    return new TestConfig()
        .set("firmware.dir", root.resolve("firmware").toString())
        .set("download.dir", root.resolve("downloads").toString())
        .set("http.allowed", true)
        .set("download.backoff.ms", 10)
        .set("download.idle.seconds", 2)
        .set("health.interval.ms", 100);
  }

  TestConfig set(String property, Object value) {
    values.put(property, value);
    return this;
  }

  FirmwareConfig config() {
    return (FirmwareConfig)
        Proxy.newProxyInstance(
            FirmwareConfig.class.getClassLoader(),
            new Class<?>[] {FirmwareConfig.class},
            (proxy, m, args) -> value(m));
  }

  Settings settings() {
    return Settings.of(config());
  }

  private Object value(Method m) {
    String name = m.getName().replace('_', '.');
    if (values.containsKey(name)) {
      return values.get(name);
    }
    return m.getDefaultValue();
  }
}
