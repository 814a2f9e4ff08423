import Testing
import SluiceCore

/// `SLUICE_DATABASE_URL`, read as every command reads it.
@Suite struct DatabaseSettingsTests {
    func read(_ url: String) throws(LoadError) -> DatabaseSettings? {
        try DatabaseSettings.from(environment: ["SLUICE_DATABASE_URL": url])
    }

    @Test func unsetMeansTheStateFolder() throws {
        #expect(try DatabaseSettings.from(environment: [:]) == nil)
        #expect(try read("") == nil)
    }

    @Test func theURLsPartsAndItsDefaults() throws {
        let full = try #require(try read("postgresql://ml%40ops:p%40ss%3Aword@db.internal:6432/sluice?sslmode=require"))
        #expect(full == DatabaseSettings(host: "db.internal", port: 6432, user: "ml@ops", password: "p@ss:word", database: "sluice", tls: .require))
        // The password never shows in messages.
        #expect(full.redacted == "postgres://ml@ops:***@db.internal:6432/sluice?sslmode=require")
        let plain = try #require(try read("postgres://sluice@db/runs"))
        #expect(plain.port == 5432 && plain.password == nil && plain.tls == .verifyFull && plain.rootCertificate == nil)
        let ca = try #require(try read("postgres://sluice@[fd00::5]:5433/runs?sslmode=verify-full&sslrootcert=/etc/sluice/ca.pem"))
        #expect(ca.host == "fd00::5" && ca.port == 5433 && ca.rootCertificate == "/etc/sluice/ca.pem")
    }

    @Test func whatIsWrongIsSaidWithTheVariableAndAnExample() {
        func message(_ url: String) -> String {
            do { _ = try read(url); return "accepted" } catch { return error.description }
        }
        #expect(message("mysql://u@h/d").hasPrefix("SLUICE_DATABASE_URL: not a postgres:// URL"))
        #expect(message("postgres://u@h").contains("names no database"))
        #expect(message("postgres://h/db").contains("names no user"))
        #expect(message("postgres://u@h:99999/db").contains("the port '99999' is not a number from 1 to 65535"))
        #expect(message("postgres://u@h:5432/db?sslmode=prefer").contains("sslmode 'prefer' is not one of disable, require, verify-full"))
        #expect(message("postgres://u@h/db?connect_timeout=3").contains("the parameter 'connect_timeout' is not one Sluice reads"))
        #expect(message("postgres://u:%zz@h/db").contains("malformed %-escape"))
        #expect(message("postgres://u@h/db").hasPrefix("accepted"))
        #expect(message("mysql://u@h/d").contains("e.g. postgres://"))
    }
}
