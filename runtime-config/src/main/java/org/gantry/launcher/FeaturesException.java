package org.gantry.launcher;

/**
 * A features repository that cannot be used: not well-formed XML, an element the launcher cannot
 * honour, a feature that is not defined, a dependency cycle. The message names the file and says
 * what is wrong.
 */
public final class FeaturesException extends Exception {

  private static final long serialVersionUID = 1L;

  public FeaturesException(String message) {
    super(message);
  }

  public FeaturesException(String message, Throwable cause) {
    super(message, cause);
  }
}
