public enum SluiceHTTPPlaceholder {}
