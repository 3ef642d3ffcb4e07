import ArgumentParser
import HoopoeCore

/// `hoopoe dead delete ID`: forgets one dead job for good.
struct DeadDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete one dead job for good.",
        discussion: "Exit 0 when deleted, 1 when no dead job has this id."
    )

    @OptionGroup var target: JobTarget

    func run() async throws {
        let id = target.id
        let (deleted, searched) = try await target.search { jobs, queues -> String? in
            for queue in queues where try await jobs.deleteDead(id: id, queue: queue) { return queue }
            return nil
        }
        guard let queue = deleted else { throw target.notFound("dead job", searched: searched) }
        print("deleted dead job \(id) from queue \(queue)")
    }
}
