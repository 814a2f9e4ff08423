public enum SluiceGitPlaceholder {}
